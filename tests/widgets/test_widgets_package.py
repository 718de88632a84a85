"""The widgets package: public names, and importing it stays cheap until a panel is used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import bentocloud_jupyter.widgets as package


def test_public_names() -> None:
    from bentocloud_jupyter.widgets import (
        CallForm,
        CodespacePanel,
        ContextPicker,
        DeploymentsPanel,
        DeploymentStatus,
        LoginPanel,
        LogView,
        TransferProgress,
        TypedNameConfirm,
    )

    names = {c.__name__ for c in (CallForm, CodespacePanel, ContextPicker, DeploymentsPanel, DeploymentStatus,
                                  LoginPanel, LogView, TransferProgress, TypedNameConfirm)}
    assert names == set(package.__all__)
    with pytest.raises(AttributeError):
        package.NoSuchPanel  # noqa: B018


def test_package_import_is_lazy() -> None:
    code = ("import json, sys; import bentocloud_jupyter.widgets; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('ipywidgets', 'IPython')))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
