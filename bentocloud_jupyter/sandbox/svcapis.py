"""The APIs the seeded bentos "serve" at ``/_svc/{deployment}``: schemas, deterministic handlers, OpenAPI.

Pure data and functions (no starlette): :mod:`.services` serves them, :mod:`.state` copies
:func:`manifest_schema` into the seeded manifests (bentoml's spec-2 ``schema`` shape: ``{name, type:
"service", routes: [{name, route, description, batchable, input, output, is_task}]}``).

* ``summarizer``: POST ``/summarize`` ``{"text": str}`` -> ``{"summary": str}`` (first sentence, at most
  :data:`SUMMARY_MAX` characters, ``...`` when cut);
* ``iris_classifier``: POST ``/classify`` ``{"input_data": [[sepal_len, sepal_wid, petal_len, petal_wid],
  ...]}`` -> ``[class id, ...]`` (0 setosa, 1 versicolor, 2 virginica, by a fixed petal rule);
* ``llm-chat``: POST ``/chat`` ``{"prompt": str}`` -> ``{"reply": str}`` (canned, deterministic);
* ``fail-demo``: POST ``/predict`` ``{"x": number}`` -> ``{"y": number}`` (never runs: its build fails).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUMMARY_MAX = 120
IRIS_CLASSES = ("setosa", "versicolor", "virginica")


class BadInput(ValueError):
    """The request body does not fit the API's input schema (answered with 400)."""


@dataclass(frozen=True)
class Api:
    name: str
    route: str
    description: str
    input: dict[str, Any]
    output: dict[str, Any]
    handler: Callable[[dict[str, Any]], Any]


def _obj(title: str, props: dict[str, Any]) -> dict[str, Any]:
    return {"title": title, "type": "object", "properties": props, "required": list(props)}


def summarize(body: dict[str, Any]) -> dict[str, str]:
    text = " ".join(str(body["text"]).split())
    first = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    if len(first) > SUMMARY_MAX:
        first = first[: SUMMARY_MAX - 3].rstrip() + "..."
    return {"summary": first}


def classify(body: dict[str, Any]) -> list[int]:
    out = []
    for _sepal_len, _sepal_wid, petal_len, petal_wid in body["input_data"]:
        out.append(0 if petal_len < 2.5 else 1 if petal_wid < 1.75 else 2)
    return out


def chat(body: dict[str, Any]) -> dict[str, str]:
    prompt = " ".join(str(body["prompt"]).split())
    openers = ("Good question.", "Sure!", "Here is what I think.", "Let me help with that.")
    pick = openers[int(hashlib.sha256(prompt.encode()).hexdigest(), 16) % len(openers)]
    shown = prompt if len(prompt) <= 60 else prompt[:57] + "..."
    return {"reply": f"{pick} You said: \"{shown}\". (Deterministic sandbox reply; no model was called.)"}


def predict(body: dict[str, Any]) -> dict[str, float]:
    return {"y": 2 * float(body["x"])}


_ROW = {"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}
APIS: dict[str, list[Api]] = {
    "summarizer": [Api("summarize", "/summarize", "Summarise English text (first sentence).",
                       _obj("Input", {"text": {"title": "Text", "type": "string"}}),
                       _obj("Output", {"summary": {"title": "Summary", "type": "string"}}), summarize)],
    "iris_classifier": [Api("classify", "/classify", "Classify iris flowers from four measurements.",
                            _obj("Input", {"input_data": {"title": "Input Data", "type": "array", "items": _ROW}}),
                            {"title": "Output", "type": "array", "items": {"type": "integer"}}, classify)],
    "llm-chat": [Api("chat", "/chat", "Chat with the model.",
                     _obj("Input", {"prompt": {"title": "Prompt", "type": "string"}}),
                     _obj("Output", {"reply": {"title": "Reply", "type": "string"}}), chat)],
    "fail-demo": [Api("predict", "/predict", "Double a number.",
                      _obj("Input", {"x": {"title": "X", "type": "number"}}),
                      _obj("Output", {"y": {"title": "Y", "type": "number"}}), predict)],
}


def apis_of(repo: str) -> list[Api]:
    return APIS.get(repo, [])


def manifest_schema(repo: str, entry: str) -> dict[str, Any]:
    """bentoml's spec-2 ``schema`` of a seeded bento ({} for unknown ones)."""
    apis = apis_of(repo)
    if not apis:
        return {}
    return {"name": entry, "type": "service", "routes": [
        {"name": a.name, "route": a.route, "description": a.description, "batchable": False,
         "input": a.input, "output": a.output, "is_task": False} for a in apis]}


def check(value: Any, schema: dict[str, Any], where: str = "body") -> None:
    """A small JSON-schema subset (object/array/string/number/integer, required, min/maxItems)."""
    kind = schema.get("type")
    if kind == "object":
        if not isinstance(value, dict):
            raise BadInput(f"{where}: expected a JSON object")
        for key in schema.get("required", []):
            if key not in value:
                raise BadInput(f"{where}.{key}: field required")
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(value[key], sub, f"{where}.{key}")
    elif kind == "array":
        if not isinstance(value, list):
            raise BadInput(f"{where}: expected an array")
        lo, hi = schema.get("minItems"), schema.get("maxItems")
        if (lo is not None and len(value) < lo) or (hi is not None and len(value) > hi):
            raise BadInput(f"{where}: expected {lo} to {hi} items, got {len(value)}")
        for index, item in enumerate(value):
            check(item, schema.get("items", {}), f"{where}[{index}]")
    elif kind == "string" and not isinstance(value, str):
        raise BadInput(f"{where}: expected a string")
    elif kind in ("number", "integer") and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise BadInput(f"{where}: expected a number")


def _operation(service: str, name: str, input_schema: dict[str, Any], output_schema: dict[str, Any]
               ) -> dict[str, Any]:
    error = {"description": "Bad input", "content": {"application/json": {"schema": {
        "type": "object", "properties": {"error": {"type": "string"}}}}}}
    return {"post": {
        "operationId": f"{service}__{name}", "summary": name, "tags": ["Service APIs"],
        "requestBody": {"required": True, "content": {"application/json": {"schema": input_schema}}},
        "responses": {"200": {"description": "Successful Response",
                              "content": {"application/json": {"schema": output_schema}}},
                      "400": error, "401": {"description": "Missing or invalid bearer token"},
                      "503": {"description": "Deployment not running"}}}}


def openapi(service: str, title: str, version: str, description: str,
            routes: list[tuple[str, dict[str, Any], dict[str, Any], str]]) -> dict[str, Any]:
    """An OpenAPI 3 document; ``routes`` are (route, input schema, output schema, name)."""
    probe = {"get": {"tags": ["Infrastructure"], "responses": {"200": {"description": "Successful Response"}}}}
    paths: dict[str, Any] = {"/readyz": probe, "/livez": probe}
    for route, input_schema, output_schema, name in routes:
        paths[route] = _operation(service, name, input_schema, output_schema)
    return {"openapi": "3.0.2", "info": {"title": title, "description": description, "version": version},
            "servers": [{"url": "."}], "paths": paths,
            "tags": [{"name": "Service APIs"}, {"name": "Infrastructure"}]}


def document(repo: str, version: str, manifest: dict[str, Any], description: str) -> dict[str, Any]:
    """The ``/docs.json`` of a bento: seeded APIs, else the routes of an uploaded manifest's schema."""
    entry = str(manifest.get("entry_service") or repo)
    apis = apis_of(repo)
    if apis:
        routes = [(a.route, a.input, a.output, a.name) for a in apis]
    else:
        schema = manifest.get("schema") or {}
        routes = [(str(r.get("route")), r.get("input") or {}, r.get("output") or {}, str(r.get("name")))
                  for r in schema.get("routes") or [] if isinstance(r, dict) and r.get("route")]
    return openapi(entry, entry, version, description, routes)


def service_schema(repo: str, manifest: dict[str, Any], description: str) -> dict[str, Any]:
    """The ``/schema.json`` a BentoML service serves (``Service.schema()``), which bentoml's
    ``SyncHTTPClient``/``AsyncHTTPClient`` read to learn the routes: ``{name, type, routes: [{name, route,
    input, output, is_task, ...}], description, paths}``. From the seeded APIs, else the uploaded manifest."""
    entry = str(manifest.get("entry_service") or repo)
    schema = manifest_schema(repo, entry) if apis_of(repo) else manifest.get("schema")
    raw_routes = schema.get("routes") if isinstance(schema, dict) else None
    routes = []
    for r in raw_routes or []:
        if not isinstance(r, dict) or not r.get("route") or not r.get("name"):
            continue
        routes.append({"name": str(r["name"]), "route": str(r["route"]), "description": r.get("description") or "",
                       "batchable": bool(r.get("batchable")), "input": r.get("input") or {"type": "object",
                                                                                          "properties": {}},
                       "output": r.get("output") or {}, "is_task": bool(r.get("is_task"))})
    paths = {r["route"]: {"mounted": False} for r in routes}
    return {"name": entry, "type": "service", "routes": routes, "description": description, "paths": paths}
