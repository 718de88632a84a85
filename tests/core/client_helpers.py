"""Request bodies and polling shared by the client and watcher tests."""

from __future__ import annotations

import time
from typing import Any

from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment


def body(bento: str = "summarizer:v3", name: str | None = None, *, service: str = "Summarizer",
         instance_type: str | None = "cpu.2", scaling_max: int = 2, envs: Any = None) -> dict[str, Any]:
    return {
        "access_authorization": False, "envs": envs, "labels": [{"key": "team", "value": "ml"}], "secrets": None,
        "services": {service: {"instance_type": instance_type,
                               "scaling": {"min_replicas": 1, "max_replicas": scaling_max, "policy": None},
                               "envs": None, "deployment_strategy": None, "extras": None,
                               "cold_start_timeout": None, "config_overrides": {}}},
        "canary": None, "bento": bento, "name": name, "dev": False,
    }


def wait_settled(client: BentoCloudClient, name: str, timeout: float = 10.0) -> Deployment:
    deadline = time.monotonic() + timeout
    while True:
        deployment = client.get_deployment(name)
        if deployment.is_settled or time.monotonic() > deadline:
            return deployment
        time.sleep(0.02)
