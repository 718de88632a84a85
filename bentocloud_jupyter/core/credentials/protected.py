"""Protected contexts, kept in their own file beside ``.yatai.yaml``.

``bentoml cloud login`` rewrites ``.yatai.yaml`` and drops every key it does not know, so a flag stored
there would be erased by the next login into any context; ``$BENTOML_HOME/.bentocloud-jupyter/protected.yaml``
is ours alone. Written like the credentials file: locked, re-read inside the lock, atomic.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bentocloud_jupyter.core.credentials.reading import bentoml_home
from bentocloud_jupyter.core.credentials.safefile import atomic_write, ensure_folder, locked
from bentocloud_jupyter.core.errors import ConfigError

__all__ = ["is_protected", "protected_contexts", "protected_path", "set_protected"]


def protected_path() -> Path:
    """Where the names of protected contexts live (outside ``.yatai.yaml``, which bentoml rewrites)."""
    return bentoml_home() / ".bentocloud-jupyter" / "protected.yaml"


def protected_contexts(path: Path | None = None) -> frozenset[str]:
    """The protected context names; a missing file protects nothing, an unreadable one is an error."""
    target = path or protected_path()
    try:
        text = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read {target} ({exc}); fix or remove it.", path=str(target)) from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise ConfigError(f"{target} is not valid YAML; fix or remove it.", path=str(target)) from None
    names = document.get("protected_contexts") if isinstance(document, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ConfigError(f"{target} has no list of protected_contexts; fix or remove it.", path=str(target))
    return frozenset(names)


def is_protected(name: str, path: Path | None = None) -> bool:
    """True when changes in context ``name`` must have the target's name typed back."""
    return name in protected_contexts(path)


def set_protected(name: str, protected: bool, path: Path | None = None) -> frozenset[str]:
    """Protect (or unprotect) ``name``; returns the protected names after the change."""
    target = path or protected_path()
    ensure_folder(target.parent)
    with locked(target):
        names = set(protected_contexts(target))
        names = names | {name} if protected else names - {name}
        atomic_write(target, yaml.safe_dump({"protected_contexts": sorted(names)}, sort_keys=False))
    return frozenset(names)
