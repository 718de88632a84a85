"""What the secret and API-token verbs return: results that show names, keys and metadata, never a value.

Each has an escaped ``_repr_html_`` and a text ``__repr__`` (as :mod:`.results`). None of them holds a
secret's value; :class:`NewTokenView` holds the new token (a :class:`~.tokens.Token`, masked in every
printable form) only when nothing else kept it, so a Python caller can ``.token.reveal()`` it once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bentocloud_jupyter.core.display import esc, format_time, html_table
from bentocloud_jupyter.core.messages import TextOutput, safe_repr
from bentocloud_jupyter.core.rest.org_models import ApiTokenDetails, SecretDetails
from bentocloud_jupyter.core.results import TableView, html_of
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ApiTokenView", "ApiTokensView", "NewTokenView", "SecretView", "SecretsView", "secret_summary",
           "summaries_text", "token_summary"]

SECRET_HEADERS = ["name", "mount as", "stage", "keys", "path", "cluster", "created"]
TOKEN_HEADERS = ["name", "uid", "scopes", "expires", "last used", "created"]


def _when(value: datetime | None, none: str = "never") -> str:
    return format_time(value) or none


def secret_summary(s: SecretDetails) -> dict[str, Any]:
    """The machine-readable fields of ``-o json|yaml`` for one secret (no values: they are never here)."""
    return {"name": s.name, "type": s.mount_as, "stage": s.stage, "path": s.path, "cluster": s.cluster,
            "keys": [{"key": i.key, **({"sub_path": i.sub_path} if i.sub_path else {})} for i in s.items],
            "description": s.description, "created_at": format_time(s.created_at),
            "updated_at": format_time(s.updated_at), "created_by": s.created_by}


def token_summary(t: ApiTokenDetails) -> dict[str, Any]:
    """The machine-readable fields of one token's metadata."""
    return {"name": t.name, "uid": t.uid, "description": t.description, "scopes": list(t.scopes),
            "expired_at": format_time(t.expired_at) or None, "is_expired": t.is_expired,
            "last_used_at": format_time(t.last_used_at) or None, "created_at": format_time(t.created_at),
            "created_by": t.created_by}


def summaries_text(summaries: Any, output: str) -> TextOutput:
    """``-o json`` / ``-o yaml`` text."""
    text = json.dumps(summaries, indent=2, ensure_ascii=False, default=str)
    if output == "yaml":
        import yaml

        return TextOutput(yaml.safe_dump(json.loads(text), sort_keys=False, allow_unicode=True).rstrip(), "yaml")
    return TextOutput(text, "json")


def _secret_row(s: SecretDetails) -> list[str]:
    return [s.name, s.mount_as, s.stage or "-", ", ".join(s.keys), s.path or "-", s.cluster, _when(s.created_at, "")]


def _token_row(t: ApiTokenDetails) -> list[str]:
    expires = _when(t.expired_at) + (" (expired)" if t.is_expired else "")
    return [t.name, t.uid, ", ".join(t.scopes) or "-", expires, _when(t.last_used_at), _when(t.created_at, "")]


@dataclass(frozen=True)
class SecretsView:
    """A listing of secrets: names, keys, type, stage, mount path and cluster."""

    secrets: Sequence[SecretDetails]
    empty: str = "No secrets."

    @property
    def table(self) -> TableView:
        return TableView(SECRET_HEADERS, [_secret_row(s) for s in self.secrets], self.empty)

    def __repr__(self) -> str:
        return repr(self.table)

    def _repr_html_(self) -> str:
        return html_of(self.table)


@dataclass(frozen=True)
class SecretView:
    """One secret after a change (created, applied): what it holds, never a value."""

    secret: SecretDetails
    done: str = "created"

    @property
    def summary(self) -> str:
        s = self.secret
        where = f" in cluster {s.cluster!r}" if s.cluster else ""
        mount = f" mounted at {s.path}" if s.mount_as == "file" else ""
        return (f"Secret {s.name!r} {self.done}{where}: {s.mount_as}{mount}, stage {s.stage or '-'}, "
                f"keys {', '.join(s.keys) or '-'}.")

    @safe_repr
    def __repr__(self) -> str:
        return self.summary

    @safe_repr
    def _repr_html_(self) -> str:
        return f"<div>{esc(self.summary)}</div>"


@dataclass(frozen=True)
class ApiTokensView:
    """A listing of API tokens: name, scopes, expiry, last use; never a token."""

    tokens: Sequence[ApiTokenDetails]
    empty: str = "No API tokens."

    @property
    def table(self) -> TableView:
        return TableView(TOKEN_HEADERS, [_token_row(t) for t in self.tokens], self.empty)

    def __repr__(self) -> str:
        return repr(self.table)

    def _repr_html_(self) -> str:
        return html_of(self.table)


def _token_fields(t: ApiTokenDetails) -> list[list[str]]:
    return [["name", t.name], ["uid", t.uid], ["description", t.description or "-"],
            ["scopes", ", ".join(t.scopes) or "-"], ["expires", _when(t.expired_at)],
            ["expired", "yes" if t.is_expired else "no"], ["last used", _when(t.last_used_at)],
            ["created", _when(t.created_at, "")], ["created by", t.created_by or "-"]]


@dataclass(frozen=True)
class ApiTokenView:
    """One token's metadata, field by field."""

    token: ApiTokenDetails

    @safe_repr
    def __repr__(self) -> str:
        return "\n".join(f"{k:>12}: {v}" for k, v in _token_fields(self.token))

    @safe_repr
    def _repr_html_(self) -> str:
        return html_table(["", ""], _token_fields(self.token))


@dataclass(frozen=True)
class NewTokenView:
    """A token just created, and where it went (a context, a file); the token itself is never printed.

    ``token`` is kept only when it went nowhere (the Python API's caller then holds it; reveal it once).
    """

    details: ApiTokenDetails
    kept_in: str = ""
    token: Token | None = field(default=None, repr=False, compare=False)

    @property
    def summary(self) -> str:
        t = self.details
        scopes = ", ".join(t.scopes) or "all scopes"
        where = self.kept_in or "held by this result only: call .token.reveal() once and store it safely"
        return (f"API token {t.name!r} created (uid {t.uid}; {scopes}; expires {_when(t.expired_at)}); "
                f"{where}.")

    @safe_repr
    def __repr__(self) -> str:
        return self.summary

    @safe_repr
    def _repr_html_(self) -> str:
        return f"<div>{esc(self.summary)}</div>"
