"""Composite ipywidgets panels over the same API verbs as the magics.

Only core controls are used (HTML, Button, Text, Password, Dropdown, ToggleButton, Checkbox, boxes),
so the panels render in JupyterLab 4, Notebook 7, VS Code and Colab. Each panel is imported on first
use, so ``import bentocloud_jupyter.widgets`` stays cheap::

    from bentocloud_jupyter.widgets import LoginPanel, ContextPicker, DeploymentStatus, DeploymentsPanel
    from bentocloud_jupyter.widgets import CodespacePanel  # follows a codespace handle (bc.code(...))
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bentocloud_jupyter.widgets.callform import CallForm
    from bentocloud_jupyter.widgets.codespace import CodespacePanel
    from bentocloud_jupyter.widgets.confirm import TypedNameConfirm
    from bentocloud_jupyter.widgets.contexts import ContextPicker
    from bentocloud_jupyter.widgets.deployments import DeploymentsPanel
    from bentocloud_jupyter.widgets.login import LoginPanel
    from bentocloud_jupyter.widgets.logview import LogView
    from bentocloud_jupyter.widgets.progress import TransferProgress
    from bentocloud_jupyter.widgets.status import DeploymentStatus

__all__ = ["CallForm", "CodespacePanel", "ContextPicker", "DeploymentStatus", "DeploymentsPanel", "LogView",
           "LoginPanel", "TransferProgress", "TypedNameConfirm"]

_MODULES = {"ContextPicker": "contexts", "DeploymentStatus": "status", "DeploymentsPanel": "deployments",
            "LoginPanel": "login", "TransferProgress": "progress", "LogView": "logview", "CallForm": "callform",
            "CodespacePanel": "codespace", "TypedNameConfirm": "confirm"}


def __getattr__(name: str) -> Any:
    """Import a panel's module (and ipywidgets) only when the panel is first used."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_MODULES))
