"""The credentials file shared with the ``bentoml`` CLI: ``$BENTOML_HOME/.yatai.yaml``.

Same format as ``bentoml`` (so either tool can read what the other wrote), safer handling:

* Reading never writes or creates anything; a missing or empty file means "no contexts".
* Every write takes a cross-process lock, re-reads the file inside it, applies one change, writes a
  temp file in the same folder, fsyncs it, renames it over the old one and fsyncs the folder. A crash
  leaves the complete old or the complete new file; concurrent writers never lose each other's
  contexts. The file is written ``0600``; a folder we create is ``0700``; a read-only file or folder
  is refused, never replaced.
* ``bentoml`` writes without a lock (truncate, then write): a read that may have caught it mid-write is
  re-read until it settles, and a write that would drop a context nobody asked to remove is refused
  (see :mod:`.guard`).
* A file we cannot parse raises :class:`~.errors.ConfigError` and is never overwritten.
* Keys we do not know survive our writes (``bentoml`` drops them).
* Tolerated as ``bentoml`` tolerates them: non-string scalars (coerced to text), a missing ``email``,
  duplicate context names (the first wins, and :attr:`Config.problems` says so), a UTF-8 BOM, CRLF.

The functions here return values and print nothing. Writing lives here; the model (:mod:`.model`),
reading (:mod:`.reading`) and the choice of context (:mod:`.resolve`) have modules of their own and are
re-exported, so ``config.load_config`` and friends keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path

from bentocloud_jupyter.core.credentials.guard import write_guarded
from bentocloud_jupyter.core.credentials.model import (
    DEFAULT_CONTEXT_NAME,
    DEFAULT_ENDPOINT,
    ENV_CONTEXT_NAME,
    FILE_NAME,
    INSECURE_KEY,
    Config,
    Context,
    context_not_found,
)
from bentocloud_jupyter.core.credentials.reading import bentoml_home, credentials_path, load_config, parse_config
from bentocloud_jupyter.core.credentials.resolve import (
    ContextSource,
    ResolvedContext,
    get_context,
    list_contexts,
    resolve_context,
)
from bentocloud_jupyter.core.credentials.safefile import ensure_folder, locked
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.tokens import Token

__all__ = [
    "DEFAULT_CONTEXT_NAME",
    "DEFAULT_ENDPOINT",
    "ENV_CONTEXT_NAME",
    "FILE_NAME",
    "INSECURE_KEY",
    "Config",
    "Context",
    "ContextSource",
    "ResolvedContext",
    "Token",  # re-exported: callers build contexts with config.Token(...)
    "bentoml_home",
    "context_not_found",
    "credentials_path",
    "get_context",
    "list_contexts",
    "load_config",
    "parse_config",
    "remove_context",
    "rename_context",
    "resolve_context",
    "save_context",
    "set_current_context",
    "update_config",
]


def save_context(context: Context, path: Path | None = None) -> Config:
    """Add ``context``, or replace the context of the same name in place (keeping its position).

    Unknown keys of a replaced context are kept unless ``context`` brings its own.

    Raises:
        InvalidInputError: reserved or empty name, empty endpoint.
        ConfigError: the existing file cannot be parsed (it is left untouched) or written.
    """
    _check_name(context.name)
    if not context.endpoint:
        raise InvalidInputError("The endpoint is empty; give the BentoCloud URL, e.g. " + DEFAULT_ENDPOINT)

    def change(config: Config) -> Config:
        contexts = list(config.contexts)
        for index, existing in enumerate(contexts):
            if existing.name == context.name:
                contexts[index] = context if context.extra else replace(context, extra=existing.extra)
                break
        else:
            contexts.append(context)
        return replace(config, contexts=tuple(contexts))

    return update_config(change, path)


def remove_context(name: str, path: Path | None = None) -> Config:
    """Remove the context called ``name`` (every entry of that name).

    If it was the current context, the first remaining context becomes current (or ``default`` when
    none is left), so the file never points at a context that does not exist.

    Raises:
        ContextNotFoundError: no such context.
    """

    def change(config: Config) -> Config:
        if config.find(name) is None:
            raise context_not_found(name, config)
        contexts = tuple(ctx for ctx in config.contexts if ctx.name != name)
        current = config.current_context_name
        if current == name:
            current = contexts[0].name if contexts else DEFAULT_CONTEXT_NAME
        return replace(config, contexts=contexts, current_context_name=current)

    return update_config(change, path, removing=(name,))


def rename_context(old: str, new: str, path: Path | None = None) -> Config:
    """Rename a context, following it with ``current_context_name`` if it was current.

    Raises:
        ContextNotFoundError: ``old`` does not exist.
        InvalidInputError: ``new`` is reserved, empty or already taken.
    """
    _check_name(new)

    def change(config: Config) -> Config:
        if config.find(old) is None:
            raise context_not_found(old, config)
        if old != new and config.find(new) is not None:
            raise InvalidInputError(f"A context named {new!r} already exists; remove it first or pick "
                                    "another name.")
        contexts = tuple(replace(ctx, name=new) if ctx.name == old else ctx for ctx in config.contexts)
        current = new if config.current_context_name == old else config.current_context_name
        return replace(config, contexts=contexts, current_context_name=current)

    return update_config(change, path, removing=(old,))


def set_current_context(name: str, path: Path | None = None) -> Config:
    """Make ``name`` the current context (the ``bentoml`` CLI follows it too).

    Unlike ``bentoml``, this looks only at the file: ``__env__`` and unknown names are refused, so
    ``BENTO_CLOUD_API_KEY`` can never be persisted as the current context.

    Raises:
        ContextNotFoundError: no such context.
        InvalidInputError: ``name`` is ``__env__``.
    """
    _check_name(name)

    def change(config: Config) -> Config:
        if config.find(name) is None:
            raise context_not_found(name, config)
        return replace(config, current_context_name=name)

    return update_config(change, path)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("A context name must be a non-empty string.")
    if name == ENV_CONTEXT_NAME:
        raise InvalidInputError(f"{ENV_CONTEXT_NAME!r} is reserved for credentials taken from "
                                "BENTO_CLOUD_API_KEY; choose another context name.")


def update_config(change: Callable[[Config], Config], path: Path | None = None, *,
                  removing: Collection[str] = ()) -> Config:
    """Apply ``change`` to the freshly re-read file under the lock and write the result atomically.

    ``change`` receives the file as it is *now* (not as some earlier read saw it), so concurrent
    writers compose instead of overwriting each other. It may be called more than once (when
    ``bentoml`` wrote meanwhile), so it must not have side effects. A result without a context the
    file had is refused unless that name is in ``removing``.

    Raises:
        ConfigError: the current file cannot be parsed, is read-only, kept changing, or the change
            would drop a context not in ``removing`` (nothing is written), or the write failed.
    """
    path = path or credentials_path()
    target = path.resolve() if path.is_symlink() else path
    ensure_folder(target.parent)
    with locked(target):
        new = write_guarded(target, lambda config: (change(config), removing))
    return replace(new, path=path)
