"""Does a JSON input fit an API's documented request schema? Checked before a batch sends anything.

Why only the top level: that is where a dataset row goes wrong (a missing or misspelt field, a number as text);
deeper checks are the service's job and its 400 is recorded on the item anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bentocloud_jupyter.core.calls.openapi import ApiSpec, schema_kind

__all__ = ["mismatch"]

_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float),
                                       "boolean": (bool,), "array": (list, tuple), "object": (dict, Mapping)}


def _fits(value: Any, schema: Mapping[str, Any]) -> bool:
    if value is None:
        return schema.get("nullable") is True or "null" in (schema.get("type") or []) or any(
            isinstance(s, Mapping) and s.get("type") == "null" for s in schema.get("anyOf") or [])
    kind = schema_kind(schema)
    wanted = _TYPES.get(kind)
    if wanted is None or (kind == "object" and not schema.get("type") and "anyOf" in schema):
        return True
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False
    return isinstance(value, wanted)


def mismatch(value: Any, spec: ApiSpec) -> str | None:
    """Why ``value`` cannot be this API's JSON body (a few words), or None when it fits or nothing is known."""
    schema = spec.schema
    if not schema or schema_kind(schema) != "object" or not spec.properties:
        return None
    if not isinstance(value, Mapping):
        return f"expected a JSON object with {', '.join(map(repr, spec.properties))}, got {type(value).__name__}"
    missing = [name for name in spec.required if name not in value]
    if missing:
        return f"missing field {', '.join(map(repr, missing))}"
    for key, field_schema in spec.properties.items():
        if key in value and not _fits(value[key], field_schema):
            return f"field {key!r} should be {schema_kind(field_schema)}, got {type(value[key]).__name__}"
    if schema.get("additionalProperties") is False:
        extra = [k for k in value if k not in spec.properties]
        if extra:
            return f"unknown field {', '.join(map(repr, extra))}"
    return None
