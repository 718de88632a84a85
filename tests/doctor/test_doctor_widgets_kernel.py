"""The widget-manager check against the real ipykernel, comm and ipywidgets (an in-process kernel, in a
subprocess so that its shell never becomes this test session's): unknown until a front end opens the widget
control channel, then connected."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import json
from ipykernel.inprocess.manager import InProcessKernelManager
manager = InProcessKernelManager()
manager.start_kernel()
manager.kernel.shell.run_cell("import ipywidgets")
import comm
from ipywidgets._version import __control_protocol_version__
from bentocloud_jupyter.core.doctor import local
before = local.widget_manager()
opened = {"content": {"comm_id": "c1", "target_name": "jupyter.widget.control", "data": {}},
          "metadata": {"version": __control_protocol_version__}, "header": {}, "parent_header": {}}
comm.get_comm_manager().comm_open(None, None, opened)  # what a front end's widget manager sends
after = local.widget_manager()
print(json.dumps({"kind": local.shell_kind(), "front": local.front_end().level,
                  "before": [before.level, before.found], "after": [after.level, after.found]}))
"""


def test_widgets_are_unknown_until_a_front_end_opens_the_control_channel(tmp_path: Path) -> None:
    pytest.importorskip("ipykernel.inprocess")
    pytest.importorskip("ipywidgets")
    done = subprocess.run([sys.executable, "-Xfrozen_modules=off", "-c", SCRIPT], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1",
                               "IPYTHONDIR": str(tmp_path / "ipython")})  # HOME is the test's own
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["kind"] == "kernel" and seen["front"] == "ok"
    assert seen["before"][0] == "warn" and "unknown" in seen["before"][1]
    assert seen["after"][0] == "ok" and "connected" in seen["after"][1]
