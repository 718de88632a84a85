"""Compat suite: runs against the real `bentoml` package (installed by .ci/run in its own venv).

`bentoml` resolves BENTOML_HOME once per process and posts usage analytics unless told not to, so both
are pinned before it is first imported; each test then points bentoml's credentials-file provider at
that test's own temporary BENTOML_HOME.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ["BENTOML_DO_NOT_TRACK"] = "True"
_SESSION_HOME = tempfile.mkdtemp(prefix="bentoml-compat-")
os.environ["BENTOML_HOME"] = os.path.join(_SESSION_HOME, "bentoml")
os.environ["HOME"] = _SESSION_HOME

if os.environ.get("BENTOCLOUD_JUPYTER_REQUIRE_COMPAT"):
    import bentoml  # noqa: F401  (CI: a missing bentoml is a failure, never a skip)
else:
    pytest.importorskip("bentoml")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.compat)


@pytest.fixture(autouse=True)
def bentoml_reads_this_tests_home(isolated_home: Path) -> Iterator[None]:
    from bentoml._internal.configuration.containers import BentoMLContainer

    isolated_home.mkdir(parents=True, exist_ok=True)
    BentoMLContainer.cloud_config.set(isolated_home / ".yatai.yaml")
    yield
    BentoMLContainer.cloud_config.reset()


@pytest.fixture()
def bentoml_config() -> Any:
    """bentoml's own CloudClientConfig class."""
    from bentoml._internal.cloud.config import CloudClientConfig

    return CloudClientConfig
