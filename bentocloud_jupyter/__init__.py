"""bentocloud-jupyter: BentoCloud as a first-class citizen of the notebook.

In a notebook::

    %load_ext bentocloud_jupyter
    %bentocloud sandbox                 # a local BentoCloud, no account needed
    %deploy summarizer:v3 -n summarizer

From Python (every magic has a twin here)::

    import bentocloud_jupyter as bc
    bc.deploy("summarizer:v3", name="summarizer", wait=True)

Importing this package is light: IPython, ipywidgets and the sandbox load only when used; so is
``%load_ext``: the HTTP client and the core API load with the first magic that needs them.
"""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter._version import __version__

__all__ = [
    "__version__",
    "apply",
    "bentos",
    "call",
    "clusters",
    "configure",
    "contexts",
    "delete",
    "deploy",
    "get",
    "instance_types",
    "list_deployments",
    "load_ipython_extension",
    "login",
    "logout",
    "logs",
    "models",
    "openapi",
    "pull",
    "push",
    "start",
    "start_sandbox",
    "start_watch",
    "status",
    "stop_sandbox",
    "terminate",
    "unload_ipython_extension",
    "unwatch",
    "update",
    "use_context",
    "watch",
    "whoami",
]
__all__ += ["api_tokens", "apply_secret", "create_api_token", "create_secret", "delete_api_token", "delete_secret",
            "get_api_token", "secrets"]
__all__ += ["bench", "map"]
__all__ += ["attached", "code", "codespaces", "doctor", "protect", "session", "teardown", "unprotect", "write_file"]

_API = {"apply", "bentos", "call", "clusters", "configure", "contexts", "delete", "deploy", "get", "instance_types",
        "list_deployments", "login", "logout", "logs", "models", "openapi", "pull", "push", "start_watch", "status",
        "terminate", "update", "use_context", "whoami"}
_API |= {"api_tokens", "apply_secret", "create_api_token", "create_secret", "delete_api_token", "delete_secret",
         "get_api_token", "secrets"}
_API |= {"bench", "map", "start"}
_API |= {"attached", "code", "codespaces", "doctor", "protect", "session", "teardown", "unprotect", "write_file"}
_SANDBOX = {"start_sandbox", "stop_sandbox"}


def __getattr__(name: str) -> Any:
    """The Python API, imported on first use."""
    if name in _API:
        from bentocloud_jupyter.core import api

        return getattr(api, name)
    if name in _SANDBOX:
        from bentocloud_jupyter.core.api import sandbox as local_sandbox

        return getattr(local_sandbox, name)
    if name == "unwatch":
        from bentocloud_jupyter.ipython.present import unwatch

        return unwatch
    if name == "watch":
        from bentocloud_jupyter.ipython.present import show_status

        return show_status
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext bentocloud_jupyter``: register the magics once, however often it is loaded."""
    from bentocloud_jupyter.ipython.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext bentocloud_jupyter``: stop every watcher and close every connection."""
    from bentocloud_jupyter.ipython.extension import unload

    unload(ipython)
