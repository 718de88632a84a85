"""Where the credentials come from, and whether their file and folder are private.

Why the doctor looks: ``BENTO_CLOUD_API_KEY`` silently beats the file (a notebook meant for staging runs
against production), and a token in a group-readable file is a token others on the machine can use.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from bentocloud_jupyter.core.credentials.config import ContextSource, ResolvedContext, load_config, resolve_context
from bentocloud_jupyter.core.doctor.report import Check, fail, failed, ok, warn
from bentocloud_jupyter.core.hints import Hint

__all__ = ["file_checks", "source_check"]


def source_check(context: str | None) -> tuple[Check, ResolvedContext | None]:
    """Which credentials a command would use and why; None with a ``fail`` line when none resolve."""
    try:
        resolved = resolve_context(context)
    except Exception as exc:
        return failed("credentials", exc), None
    name, endpoint = resolved.context.name, resolved.context.endpoint
    if resolved.source is ContextSource.ENV_API_KEY:
        if resolved.overridden:
            return warn("credentials", f"BENTO_CLOUD_API_KEY (endpoint {endpoint}) overrides the context "
                        f"{resolved.requested!r} you asked for{_protected(resolved)}",
                        "unset BENTO_CLOUD_API_KEY to use your saved contexts"), resolved
        shadowed = _file_current()
        if shadowed:
            return warn("credentials", f"BENTO_CLOUD_API_KEY (endpoint {endpoint}) wins over the file's current "
                        f"context {shadowed!r}{_protected(resolved)}",
                        "unset BENTO_CLOUD_API_KEY if you meant that context"), resolved
        return ok("credentials", f"BENTO_CLOUD_API_KEY (endpoint {endpoint})" + _protected(resolved)), resolved
    why = {ContextSource.ARGUMENT: "asked for", ContextSource.ENV_CONTEXT: "chosen by BENTOML_CLOUD_CONTEXT",
           ContextSource.CURRENT: "the current context"}.get(resolved.source, "")
    return ok("credentials", f"context {name!r} ({why}) of {resolved.path}, endpoint {endpoint}"
              + _protected(resolved)), resolved


def _file_current() -> str:
    """The file's current context when the file has contexts (what the environment shadows), else ""."""
    try:
        cfg = load_config()
    except Exception:
        return ""
    return cfg.current_context_name if cfg.find(cfg.current_context_name) is not None else ""


def _protected(resolved: ResolvedContext) -> str:
    """Protected as which context (``BENTO_CLOUD_API_KEY`` holding a protected context's token counts)."""
    try:
        from bentocloud_jupyter.core.guardrails.confirm import protected_as

        named = protected_as(resolved)
        if named is None:
            return ""
        return "; protected" if named == resolved.context.name else f"; protected (the token of context {named!r})"
    except Exception:  # the protected list has its own error where it is used
        return ""


def file_checks(resolved: ResolvedContext | None, path: Path) -> list[Check]:
    """The credentials file's mode (0600 wanted) and its folder (nobody else may write there)."""
    if os.name == "nt":
        return [ok("credentials file", f"{path} (permissions are not checked on Windows)")]
    try:
        info = path.stat()
    except FileNotFoundError:
        if resolved is not None and resolved.source is ContextSource.ENV_API_KEY:
            return [ok("credentials file", f"none at {path} (the environment supplies the token)")]
        return [fail("credentials file", f"none at {path}", hint=Hint("login", why="to save a context"))]
    except OSError as exc:
        return [fail("credentials file", f"{path} cannot be read ({exc.strerror or type(exc).__name__})",
                     f"check the permissions of {path.parent}")]
    real = path.resolve() if path.is_symlink() else path  # whoever may write where it lives can replace it
    folders = [path.parent] + ([real.parent] if real.parent != path.parent else [])
    return [_file_mode(path, info, real), *(_folder_mode(folder) for folder in folders)]


def _file_mode(path: Path, info: os.stat_result, real: Path) -> Check:
    mode = stat.S_IMODE(info.st_mode)
    shown = str(path) if real == path else f"{path} (a symlink to {real})"
    if not stat.S_ISREG(info.st_mode):
        return fail("credentials file", f"{shown} is not a regular file", "remove it and log in again")
    if not os.access(path, os.R_OK):
        return fail("credentials file", f"{shown} cannot be read by you (mode {mode:04o})",
                    f"run `chmod 600 {real}` as its owner")
    if mode & 0o066:
        others = "readable" if mode & 0o044 else "writable"
        return warn("credentials file", f"{shown} is {others} by group or others (mode {mode:04o})",
                    f"run `chmod 600 {real}`: it holds your API tokens")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        return warn("credentials file", f"{shown} belongs to another user (uid {info.st_uid})",
                    "use a credentials file of your own (set BENTOML_HOME)")
    return ok("credentials file", f"{shown} (mode {mode:04o})")


def _folder_mode(folder: Path) -> Check:
    """Nobody but us (or root) may write where the file lives: they could swap in a file of theirs."""
    try:
        info = folder.stat()
    except OSError as exc:
        return warn("credentials folder", f"{folder} cannot be inspected ({exc.strerror or type(exc).__name__})",
                    f"check that you may read {folder.parent}")
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        return warn("credentials folder", f"{folder} is writable by group or others (mode {mode:04o}): they could "
                    "replace the credentials file", f"run `chmod 700 {folder}`")
    if hasattr(os, "getuid") and info.st_uid not in (0, os.getuid()):
        return warn("credentials folder", f"{folder} belongs to another user (uid {info.st_uid}), who could "
                    "replace the credentials file", "keep your credentials in a folder of your own (set BENTOML_HOME)")
    return ok("credentials folder", f"{folder} (mode {mode:04o})")
