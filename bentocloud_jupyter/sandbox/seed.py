"""Seed data of the sandbox: the names notebooks, docs and other tests rely on.

Everything here is plain data (dicts and tuples) so that the store can deep-copy it on every reset
and tests can import the constants instead of repeating string literals.
"""

from __future__ import annotations

from typing import Any

ORG_NAME = "sandbox"
USER: dict[str, str] = {
    "name": "sandbox-user",
    "email": "you@sandbox.local",
    "first_name": "Sandbox",
    "last_name": "User",
}
DEFAULT_CLUSTER = "gcp-us-central-1"
KUBE_NAMESPACE = "yatai"
BENTOML_VERSION = "1.4.38"
SEED_TIME = "2025-03-01T09:00:00Z"
API_TOKEN_NAME = "sandbox"  # noqa: S105 (a display name, not a secret)

CLUSTERS: list[dict[str, Any]] = [
    {"name": "gcp-us-central-1", "description": "Google Cloud, Iowa (default)", "is_first": True},
    {"name": "aws-us-west-2", "description": "Amazon Web Services, Oregon", "is_first": False},
]


def _resources(cpu: str, memory: str, gpu: str | None) -> dict[str, Any]:
    item = {"cpu": cpu, "memory": memory, "gpu": gpu, "custom": None}
    return {"requests": dict(item), "limits": dict(item)}


INSTANCE_TYPES: list[dict[str, Any]] = [
    {
        "name": "cpu.1",
        "description": "1 vCPU, 2 GiB memory",
        "config": {"group": "cpu", "price": "$0.0484/hr", "resources": _resources("1", "2Gi", None),
                   "node_selectors": {}, "gpu_config": None},
    },
    {
        "name": "cpu.2",
        "description": "2 vCPU, 8 GiB memory",
        "config": {"group": "cpu", "price": "$0.1064/hr", "resources": _resources("2", "8Gi", None),
                   "node_selectors": {}, "gpu_config": None},
    },
    {
        "name": "cpu.4",
        "description": "4 vCPU, 16 GiB memory",
        "config": {"group": "cpu", "price": "$0.2128/hr", "resources": _resources("4", "16Gi", None),
                   "node_selectors": {}, "gpu_config": None},
    },
    {
        "name": "gpu.t4.1",
        "description": "1x NVIDIA T4 (16 GB), 4 vCPU, 16 GiB memory",
        "config": {"group": "gpu", "price": "$0.7300/hr", "resources": _resources("4", "16Gi", "1"),
                   "node_selectors": {"cloud.google.com/gke-accelerator": "nvidia-tesla-t4"},
                   "gpu_config": {"type": "nvidia-tesla-t4", "memory": "16Gi"}},
    },
    {
        "name": "gpu.l4.1",
        "description": "1x NVIDIA L4 (24 GB), 8 vCPU, 32 GiB memory",
        "config": {"group": "gpu", "price": "$1.1200/hr", "resources": _resources("8", "32Gi", "1"),
                   "node_selectors": {"cloud.google.com/gke-accelerator": "nvidia-l4"},
                   "gpu_config": {"type": "nvidia-l4", "memory": "24Gi"}},
    },
]

MODELS: list[dict[str, Any]] = [
    {
        "repo": "iris_clf", "version": "v1", "created_at": "2025-02-20T10:00:00Z",
        "module": "bentoml.sklearn", "size_bytes": 5_432,
        "description": "Scikit-learn SVC trained on the Iris data set.",
        "metadata": {"accuracy": 0.97},
        "context": {"framework_name": "sklearn", "framework_versions": {"scikit-learn": "1.5.2"},
                    "bentoml_version": BENTOML_VERSION, "python_version": "3.11.9"},
    },
    {
        "repo": "summarizer-model", "version": "v1", "created_at": "2025-02-25T10:00:00Z",
        "module": "bentoml.transformers", "size_bytes": 1_222_689_011,
        "description": "sshleifer/distilbart-cnn-12-6 summarisation pipeline.",
        "metadata": {"task": "summarization"},
        "context": {"framework_name": "transformers", "framework_versions": {"transformers": "4.46.3"},
                    "bentoml_version": BENTOML_VERSION, "python_version": "3.11.9"},
    },
]

_SUMMARIZER_DESC = (
    "# Summarizer\n\nSummarises English text with a DistilBART model. POST `/summarize` with "
    '`{"text": "..."}`.\n'
)

BENTOS: list[dict[str, Any]] = [
    {"repo": "summarizer", "version": "v1", "created_at": "2025-03-01T10:00:00Z",
     "entry": "Summarizer", "models": ["summarizer-model:v1"], "size_bytes": 48_211,
     "envs": [{"name": "LOG_LEVEL", "value": "info", "stage": "all"}],
     "description": _SUMMARIZER_DESC},
    {"repo": "summarizer", "version": "v2", "created_at": "2025-03-10T10:00:00Z",
     "entry": "Summarizer", "models": ["summarizer-model:v1"], "size_bytes": 48_904,
     "envs": [{"name": "LOG_LEVEL", "value": "info", "stage": "all"}],
     "description": _SUMMARIZER_DESC + "\nv2: batching enabled.\n"},
    {"repo": "summarizer", "version": "v3", "created_at": "2025-03-20T10:00:00Z",
     "entry": "Summarizer", "models": ["summarizer-model:v1"], "size_bytes": 49_377,
     "envs": [{"name": "LOG_LEVEL", "value": "info", "stage": "all"}],
     "description": _SUMMARIZER_DESC + "\nv3: streaming output.\n"},
    {"repo": "iris_classifier", "version": "v1", "created_at": "2025-02-21T10:00:00Z",
     "entry": "IrisClassifier", "models": ["iris_clf:v1"], "size_bytes": 12_870, "envs": [],
     "description": "# Iris classifier\n\nClassifies iris flowers from four measurements.\n"},
    {"repo": "llm-chat", "version": "v1", "created_at": "2025-03-05T10:00:00Z",
     "entry": "LLMChat", "models": [], "size_bytes": 20_113,
     "envs": [{"name": "OPENAI_API_KEY", "value": "", "stage": "runtime"}],
     "description": "# LLM chat\n\nA chat endpoint that proxies to OpenAI. Needs `OPENAI_API_KEY`.\n"},
    {"repo": "fail-demo", "version": "v1", "created_at": "2025-03-06T10:00:00Z",
     "entry": "FailDemo", "models": [], "size_bytes": 9_554, "envs": [],
     "description": "# Fail demo\n\nIts container image never builds: use it to see a failed deploy.\n"},
]

SECRETS: list[dict[str, Any]] = [
    {"name": "openai", "description": "OpenAI API key for llm-chat",
     "content": {"type": "env", "path": None, "stage": "runtime",
                 "items": [{"key": "OPENAI_API_KEY", "sub_path": None, "value": "sk-sandbox-not-real"}]}},
]
