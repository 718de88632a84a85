"""What ``apply`` (and a re-run ``%%deploy`` cell) will change in an existing deployment, field by field.

Both sides are update bodies shaped by :mod:`.schema` (every key, scaling normalised), so a field the
config leaves out compares as its default, exactly what the server will get. Fields are dotted paths
(``services.Summarizer.scaling.max_replicas``); envs and labels compare one key at a time
(``envs.LOG_LEVEL``), secrets as the list of names. Secrets are names only: no secret value is ever in a
deployment's config, so none can show here. Env values show as the user set them (as ``get`` shows them).
A service's ``instance_type`` the config leaves out is the server's to choose (its default, or what it chose
before): it shows as ``(server default)`` and is no change by itself, so re-running an unchanged cell sends
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.deployments.current import current_body
from bentocloud_jupyter.core.display import esc, html_table, text_table
from bentocloud_jupyter.core.messages import safe_repr

__all__ = ["SERVER_DEFAULT", "ChangePlan", "change_plan", "flatten"]

Row = tuple[str, "str | None", "str | None"]
SERVER_DEFAULT = "(server default)"


def _scalar(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """A body as ``{dotted path: text}``; nulls and empty mappings leave no path (they mean "not set")."""
    out: dict[str, str] = {}
    if isinstance(value, Mapping):
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and prefix.rsplit(".", 1)[-1] in ("envs", "labels"):
        pick = ("name", "value") if prefix.endswith("envs") else ("key", "value")
        for item in value:
            if isinstance(item, Mapping):
                out[f"{prefix}.{item.get(pick[0])}"] = _scalar(item.get(pick[1]))
    elif isinstance(value, list):
        if value:
            out[prefix] = ", ".join(_scalar(item) for item in value)
    elif value is not None:
        out[prefix] = _scalar(value)
    return out


@dataclass(frozen=True)
class ChangePlan:
    """Current vs new, per field; ``whole`` (a dry run) lists unchanged fields too and says nothing was sent."""

    name: str
    cluster: str
    rows: tuple[Row, ...]
    whole: bool = False

    @property
    def changes(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row[1] != row[2] and row[2] != SERVER_DEFAULT)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def _shown(self) -> list[list[str]]:
        rows = self.rows if self.whole else self.changes
        changed = set(self.changes)
        return [["*" if self.whole and (path, cur, new) in changed else "", path, "(not set)" if cur is None else cur,
                 "(not set)" if new is None else new] for path, cur, new in rows]

    @property
    def headline(self) -> str:
        count = len(self.changes)
        what = f"{count} field{'s' if count != 1 else ''} change{'s' if count == 1 else ''}" if count else \
            "no changes"
        tail = f"; dry run, nothing sent (PUT /api/v2/deployments/{self.name}?cluster={self.cluster})" \
            if self.whole else ""
        return f"Plan for deployment {self.name!r} (cluster {self.cluster}): {what}{tail}"

    @safe_repr
    def __repr__(self) -> str:
        shown = self._shown()
        table = text_table(["", "field", "current", "new"], shown) if shown else ""
        return "\n".join(filter(None, [self.headline, table]))

    @safe_repr
    def _repr_html_(self) -> str:
        shown = self._shown()
        table = html_table(["", "field", "current", "new"], shown) if shown else ""
        return f"<div><b>{esc(self.headline)}</b>{table}</div>"


def change_plan(current: Mapping[str, Any], body: Mapping[str, Any], cluster: str, *,
                whole: bool = False) -> ChangePlan:
    """The plan of replacing ``current`` (a deployment as the server sent it) with the update ``body``.

    Labels count only when the body sets them (an update without labels keeps the current ones).

    Raises:
        InvalidInputError: a current deployment without a usable main target.
    """
    base, _ = current_body(dict(current), fill=True)
    before, after = flatten(base), flatten(body)
    if body.get("labels") is not None:
        before.update(flatten({"labels": current.get("labels") or []}))
    for key, svc in (body.get("services") or {}).items():
        if isinstance(svc, Mapping) and svc.get("instance_type") is None:
            after[f"services.{key}.instance_type"] = SERVER_DEFAULT
    paths = list(dict.fromkeys([*before, *after]))
    rows = tuple((path, before.get(path), after.get(path)) for path in paths)
    return ChangePlan(str(current.get("name") or ""), cluster, rows, whole)
