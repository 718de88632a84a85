"""Typed views of organisation secrets and API tokens, built with ``from_api()`` as :mod:`.models` does.

Why a module of its own: these records hold the organisation's credentials, so what they keep is
narrower than a payload. A secret keeps its names, keys, type, stage, mount path and cluster, never a
value (the ``raw`` kept has every item value removed, whatever the server sent). A token's metadata
never keeps the token; the one answer that carries it (the create call) becomes a :class:`NewApiToken`
whose token is a :class:`~..tokens.Token` from the first moment. Every field goes through :mod:`.fields`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bentocloud_jupyter.core.rest.fields import flag, name, obj, optional_text, seq, text, texts, when
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ApiTokenDetails", "NewApiToken", "SecretDetails", "SecretKey", "scrub_secret"]

JSON = Mapping[str, Any]
SECRET_TYPES = {"env": "env", "mountfile": "file"}
"""Server type -> the word ``bentoml secret create --type`` uses."""


def record(raw: Any) -> JSON:
    if not isinstance(raw, Mapping):
        raise TypeError("expected an object")
    return raw


def scrub_secret(raw: JSON) -> dict[str, Any]:
    """``raw`` without any item value: what a secret record may keep of the server's answer."""
    content = dict(obj(raw.get("content")))
    content["items"] = [{k: v for k, v in obj(item).items() if k != "value"} for item in seq(content.get("items"))]
    return {**{k: v for k, v in raw.items() if k != "content"}, "content": content}


@dataclass(frozen=True)
class SecretKey:
    """One key of a secret (an env variable name, or a file name with its sub path); never its value."""

    key: str
    sub_path: str | None = None


@dataclass(frozen=True)
class SecretDetails:
    """An organisation secret as ``bentoml secret list`` shows it: everything but the values."""

    name: str
    type: str = "env"
    items: tuple[SecretKey, ...] = ()
    stage: str | None = None
    path: str | None = None
    cluster: str = ""
    description: str = ""
    uid: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> SecretDetails:
        raw = record(raw)
        content = obj(raw.get("content"))
        items = tuple(SecretKey(key, optional_text(obj(item).get("sub_path")))
                      for item, key in ((i, text(obj(i).get("key"))) for i in seq(content.get("items"))) if key)
        return cls(name(raw["name"]), text(content.get("type")) or "env", items, optional_text(content.get("stage")),
                   optional_text(content.get("path")), text(obj(raw.get("cluster")).get("name")),
                   text(raw.get("description")), text(raw.get("uid")), when(raw.get("created_at")),
                   when(raw.get("updated_at")), text(obj(raw.get("creator")).get("name")), scrub_secret(raw))

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(item.key for item in self.items)

    @property
    def env_keys(self) -> tuple[str, ...]:
        """Keys this secret provides as environment variables (counts for required envs)."""
        return self.keys if self.type == "env" else ()

    @property
    def mount_as(self) -> str:
        """``env`` or ``file``, the words of ``--type``."""
        return SECRET_TYPES.get(self.type, self.type)


@dataclass(frozen=True)
class ApiTokenDetails:
    """An API token's metadata: the token itself is never kept here."""

    name: str
    uid: str = ""
    description: str = ""
    scopes: tuple[str, ...] = ()
    expired_at: datetime | None = None
    last_used_at: datetime | None = None
    created_at: datetime | None = None
    is_expired: bool | None = None
    created_by: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> ApiTokenDetails:
        raw = record(raw)
        return cls(name(raw["name"]), text(raw.get("uid")), text(raw.get("description")), texts(raw.get("scopes")),
                   when(raw.get("expired_at")), when(raw.get("last_used_at")), when(raw.get("created_at")),
                   flag(raw.get("is_expired")), text(obj(raw.get("user")).get("name")),
                   {k: v for k, v in raw.items() if k != "token"})


@dataclass(frozen=True)
class NewApiToken:
    """The answer to creating a token: its metadata and the token, which only :meth:`Token.reveal` shows."""

    details: ApiTokenDetails
    token: Token = field(repr=False)

    @classmethod
    def from_api(cls, raw: JSON) -> NewApiToken:
        """Raises ``ValueError`` when the answer carries no token (nothing could use it)."""
        raw = record(raw)
        value = raw.get("token")
        if not isinstance(value, str) or not value.strip():
            raise ValueError("the answer carries no token")
        token = Token(value.strip())  # registered for redaction before anything else sees it
        return cls(ApiTokenDetails.from_api(raw), token)
