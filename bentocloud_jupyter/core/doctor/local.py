"""What this process can see by itself: versions, the front end, whether widgets render, the sandbox.

Nothing is imported to look (bentoml, IPython and ipywidgets are read from ``importlib.metadata`` and from
what is already loaded), so the doctor is as light as the rest of the core and cannot change what it sees.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from typing import Any

from bentocloud_jupyter._version import __version__
from bentocloud_jupyter.core.doctor.report import Check, ok, warn
from bentocloud_jupyter.core.hints import Hint

__all__ = ["PACKAGES", "front_end", "installed", "sandbox_check", "shell_kind", "versions", "widget_manager"]

PACKAGES = (("IPython", "ipython"), ("ipykernel", "ipykernel"), ("ipywidgets", "ipywidgets"), ("httpx", "httpx"),
            ("bentoml", "bentoml"))
"""(shown name, distribution) of what the doctor reports beside ours and Python."""


def installed(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None (never imports it)."""
    try:
        return metadata.version(distribution)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def versions() -> Check:
    """Ours, Python, and the packages a notebook session depends on; bentoml only if present."""
    ours = installed("bentocloud-jupyter") or f"{__version__} (from source)"
    parts = [f"bentocloud-jupyter {ours}", f"Python {platform.python_version()}"]
    missing = []
    for shown, dist in PACKAGES:
        version = installed(dist)
        if version is not None:
            parts.append(f"{shown} {version}")
        elif dist != "bentoml":
            missing.append(shown)
    if installed("bentoml") is None:
        parts.append("bentoml not installed (not needed)")
    if missing and shell_kind() == "kernel":
        return warn("versions", ", ".join(parts) + f"; missing: {', '.join(missing)}",
                    f"pip install {' '.join(m.lower() for m in missing)} in this kernel's environment, then restart "
                    "the kernel")
    return ok("versions", ", ".join(parts))


def _shell() -> Any:
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return get() if callable(get) else None


def shell_kind() -> str:
    """``kernel`` (a Jupyter kernel: IPython's ZMQ shell), ``terminal`` (IPython in a terminal), or ``plain``."""
    shell = _shell()
    if shell is None:
        return "plain"
    names = {cls.__name__ for cls in type(shell).__mro__}
    if "ZMQInteractiveShell" in names or getattr(shell, "kernel", None) is not None:
        return "kernel"
    return "terminal" if "TerminalInteractiveShell" in names else "ipython"


def _where() -> str:
    if "google.colab" in sys.modules:
        return "Colab"
    if any(name.startswith("VSCODE_") for name in os.environ):
        return "VS Code"
    return ""


def front_end() -> Check:
    """Where results are shown: a kernel gets widgets and live cards; elsewhere they are text."""
    kind = shell_kind()
    if kind == "kernel":
        where = _where()
        return ok("front end", "a Jupyter kernel (IPython's ZMQ shell" + (f", in {where})" if where else ")"))
    if kind == "plain":
        return ok("front end", "plain Python (no IPython): results print as text")
    return warn("front end", f"IPython outside a kernel ({kind}): widgets and live cards cannot render here",
                "open the notebook in JupyterLab, Notebook 7 or VS Code for widgets; text output works as is")


def _control_channel_open() -> bool:
    """True when a front end opened ipywidgets' control channel: a widget manager is there and talks back."""
    widgets = sys.modules.get("ipywidgets.widgets.widget")
    if getattr(getattr(widgets, "Widget", None), "_control_comm", None) is not None:
        return True
    comm = sys.modules.get("comm")
    try:
        comms = comm.get_comm_manager().comms.values() if comm is not None else ()
        return any(getattr(c, "target_name", "") == "jupyter.widget.control" for c in list(comms))
    except Exception:  # a comm manager of another shape: no evidence either way
        return False


def widget_manager() -> Check:
    """Best effort: whether a widget manager renders, said as "unknown" when the kernel cannot see it."""
    if shell_kind() != "kernel":
        return ok("widgets", "not in a kernel: results are shown as text (widgets need a Jupyter front end)")
    version = installed("ipywidgets")
    if version is None:
        return warn("widgets", "ipywidgets is not installed: results are shown as HTML, without live widgets",
                    "pip install ipywidgets in this kernel's environment, then restart the kernel")
    if _control_channel_open():
        return ok("widgets", f"ipywidgets {version}; a widget manager is connected (it opened the control channel)")
    major = version.split(".")[0]
    return warn("widgets", f"ipywidgets {version}; whether the front end renders widgets is unknown (no widget "
                "manager has spoken to this kernel yet)",
                f"if a panel shows as text or 'Loading widget...', install jupyterlab_widgets for ipywidgets {major} "
                "where Jupyter runs, then reload the page")


def sandbox_check(context_name: str | None) -> Check:
    """The sandbox of this kernel, if one runs, and whether the context in use points at it."""
    from bentocloud_jupyter.core.api.sandbox import SANDBOX_CONTEXT, running_sandbox

    sandbox = running_sandbox()
    if sandbox is None:
        return ok("sandbox", "none running in this kernel")
    found = f"running at {sandbox.url} (speed {getattr(sandbox, 'speed', 1.0):g})"
    if context_name is not None and context_name != SANDBOX_CONTEXT:
        return warn("sandbox", f"{found}, but the context in use is {context_name!r}",
                    "commands go to BentoCloud, not the sandbox", Hint("use_context", {"name": SANDBOX_CONTEXT},
                                                                      why="to use the sandbox"))
    return ok("sandbox", found + f"; context {SANDBOX_CONTEXT!r}")
