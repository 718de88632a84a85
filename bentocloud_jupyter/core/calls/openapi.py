"""The APIs a deployment documents in its OpenAPI 3 ``docs.json``: names, summaries and JSON request schemas.

Plain data and parsing, no I/O: :func:`~.invoke.openapi` fetches the document, the call form widget reads
the schemas to build its fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import ProtocolError

__all__ = ["ApiSpec", "OpenAPIView", "parse_openapi", "schema_kind"]

_INFRA = frozenset({"/", "/readyz", "/livez", "/healthz", "/metrics", "/docs.json", "/docs"})
_PRIMITIVES = {"string", "number", "integer", "boolean"}


@dataclass(frozen=True)
class ApiSpec:
    """One API of a deployment: its name (the path without ``/``) and its JSON request schema, if any."""

    name: str
    summary: str = ""
    schema: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        props = (self.schema or {}).get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def required(self) -> list[str]:
        return [str(n) for n in (self.schema or {}).get("required") or []]

    @property
    def simple(self) -> bool:
        """True when every top-level property is a string, number, integer or boolean (one field each)."""
        return bool(self.properties) and all(schema_kind(p) in _PRIMITIVES for p in self.properties.values())

    def example(self) -> Any:
        """A body of the schema's shape (defaults and examples where given) to start editing from."""
        return _example(self.schema or {}, 0)


def schema_kind(schema: Mapping[str, Any]) -> str:
    """The JSON type of a schema: its `type` (nullable types unwrapped), "object" when unsaid."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("anyOf"), list):
        kinds = [schema_kind(s) for s in schema["anyOf"] if isinstance(s, Mapping) and s.get("type") != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return str(kind or "object")


def _example(schema: Mapping[str, Any], depth: int) -> Any:
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    kind = schema_kind(schema)
    if depth > 6 or kind in ("null",):
        return None
    if kind == "object":
        props = schema.get("properties") or {}
        return {str(k): _example(v, depth + 1) for k, v in props.items() if isinstance(v, Mapping)}
    if kind == "array":
        items = schema.get("items")
        return [_example(items, depth + 1)] if isinstance(items, Mapping) else []
    return {"string": "", "number": 0.0, "integer": 0, "boolean": False}.get(kind)


@dataclass(frozen=True)
class OpenAPIView:
    """The APIs a deployment documents, with their request fields."""

    deployment: str
    apis: tuple[ApiSpec, ...] = ()

    def get(self, name: str) -> ApiSpec | None:
        return next((a for a in self.apis if a.name == name.strip("/")), None)

    def _rows(self) -> list[tuple[str, str, str]]:
        def fields(api: ApiSpec) -> str:
            return ", ".join(f"{k}: {schema_kind(v)}" for k, v in api.properties.items()) or "(raw JSON)"
        return [(a.name, fields(a), a.summary) for a in self.apis]

    def __repr__(self) -> str:
        if not self.apis:
            return f"Deployment {self.deployment!r} documents no APIs."
        return "\n".join([f"APIs of {self.deployment!r}:"] + [f"  {n}({f})  {s}".rstrip() for n, f, s in self._rows()])

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{esc(n)}</code></td><td>{esc(f)}</td><td>{esc(s)}</td></tr>"
                       for n, f, s in self._rows())
        return f"<div><b>APIs of {esc(self.deployment)}</b><table>{rows}</table></div>"


def parse_openapi(doc: Any) -> tuple[ApiSpec, ...]:
    """The POST APIs of an OpenAPI 3 document (infrastructure routes left out), ``$ref`` resolved.

    Raises:
        ProtocolError: not an OpenAPI document.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("paths"), Mapping):
        raise ProtocolError("The deployment's docs.json is not an OpenAPI document.")
    apis = []
    for path, operations in doc["paths"].items():
        post = operations.get("post") if isinstance(operations, Mapping) else None
        if str(path) in _INFRA or not isinstance(post, Mapping):
            continue
        content = (post.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        resolved = _resolve(schema, doc, 0) if isinstance(schema, Mapping) else None
        apis.append(ApiSpec(str(path).strip("/"), str(post.get("summary") or post.get("description") or ""),
                            resolved))
    return tuple(apis)


def _resolve(schema: Any, doc: Mapping[str, Any], depth: int) -> Any:
    """Inline ``#/...`` references (bounded depth, so a recursive schema cannot loop)."""
    if depth > 8:
        return {}
    if isinstance(schema, list):
        return [_resolve(item, doc, depth + 1) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, Mapping) else {}
        return _resolve(target, doc, depth + 1)
    return {k: _resolve(v, doc, depth + 1) for k, v in schema.items()}
