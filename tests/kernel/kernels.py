"""The real kernels the kernel tests run on: ipykernel 7 (this venv) and, when CI provides it, ipykernel 6
(BENTOCLOUD_JUPYTER_IPYKERNEL6_PYTHON: a Python whose environment has ipykernel<7 and this project)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager


def kernel_pythons() -> list[Any]:
    """One ``pytest.param`` per kernel Python (for ``@pytest.mark.parametrize("kernel", ..., indirect=True)``)."""
    pythons = [pytest.param(sys.executable, id="ipykernel-current")]
    other = os.environ.get("BENTOCLOUD_JUPYTER_IPYKERNEL6_PYTHON")
    if other:
        pythons.append(pytest.param(other, id="ipykernel-6"))
    elif os.environ.get("BENTOCLOUD_JUPYTER_REQUIRE_IPYKERNEL6"):
        pytest.fail("CI must provide BENTOCLOUD_JUPYTER_IPYKERNEL6_PYTHON")
    return pythons


def running_kernel(python: str, folder: Path) -> Iterator[Any]:
    """A kernel of ``python`` started in ``folder``; its client while it runs, shut down afterwards."""
    spec_dir = folder / "kernels" / "bcj-test"
    spec_dir.mkdir(parents=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bcj test", "language": "python"}))
    manager = KernelManager(kernel_name="bcj-test", kernel_spec_manager=KernelSpecManager(
        kernel_dirs=[str(folder / "kernels")]))
    manager.start_kernel(cwd=str(folder), env=dict(os.environ))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield client
    client.stop_channels()
    manager.shutdown_kernel(now=True)
