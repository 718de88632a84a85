"""The ``kernel`` fixture of the real-kernel tests (parametrized by :func:`kernels.kernel_pythons`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernels import running_kernel


@pytest.fixture()
def kernel(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    yield from running_kernel(request.param, tmp_path)
