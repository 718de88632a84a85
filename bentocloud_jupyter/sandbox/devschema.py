"""A codespace's service read from its synced files with :mod:`ast` (the sandbox never runs user code).

The service file comes from ``bentofile.yaml``'s ``service:`` line (``module:Class``), else ``service.py``.
In it, a class decorated ``@bentoml.service`` (or ``@service``) is the service (the one the bentofile
names, else the first); its methods decorated ``@bentoml.api``/``@bentoml.task`` are the APIs: name,
``route=`` when a literal, parameters with simple annotations (``str``, ``int``, ``float``, ``bool``,
``list[...]``, ``dict[...]``) and literal defaults. Handlers answer small deterministic values shaped
by the return annotation.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.sandbox.svcapis import Api

BENTOFILE = "bentofile.yaml"
DEFAULT_SERVICE_FILE = "service.py"
TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "list": "array",
         "List": "array", "dict": "object", "Dict": "object"}
MAX_SERVICE_BYTES = 256 << 10  # a bigger service file is not parsed (a sync holds the sandbox's lock)
MAX_DEFAULT_NODES = 64  # a default with more syntax nodes is not evaluated (not even as a literal)
MAX_DEFAULT_JSON = 1024  # nor kept when its JSON is longer: documents stay small
_UNREADABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
_ROUTE = re.compile(r"^/[A-Za-z0-9_\-./{}]{1,200}$")
_SERVICE_LINE = re.compile(r"^service\s*:\s*[\"']?([A-Za-z0-9_.]+)(?::([A-Za-z0-9_]+))?", re.MULTILINE)


class DevSchemaError(ValueError):
    """The synced service cannot be read (missing file, syntax error): what a dev server fails to reload on."""


@dataclass(frozen=True)
class DevService:
    """What the sandbox learnt from the synced files: the service file, its class name and its APIs."""

    path: str
    name: str
    apis: tuple[Api, ...]


def printable(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters: what reaches a log line can forge no other line."""
    shown = "".join(c if c.isprintable() else "?" for c in text)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def service_target(files: dict[str, bytes]) -> tuple[str, str | None]:
    """(service file path, class name or None) from bentofile.yaml's ``service:``, else ``service.py``."""
    text = files.get(BENTOFILE, b"").decode("utf-8", "replace")
    match = _SERVICE_LINE.search(text)
    if not match:
        return DEFAULT_SERVICE_FILE, None
    return match.group(1).replace(".", "/") + ".py", match.group(2)


def _dotted(node: ast.expr) -> str:
    """``bentoml.api`` / ``api`` / ``bentoml.api(...)`` -> its last name (``api``)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _json_type(node: ast.expr | None) -> dict[str, Any]:
    """A simple annotation as JSON schema; anything else is ``{}`` (any value)."""
    if node is None:
        return {}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except _UNREADABLE:  # a string annotation is user text too: nesting or NULs make no type
            return {}
    base = node.value if isinstance(node, ast.Subscript) else node
    kind = TYPES.get(_dotted(base))
    if kind is None:
        return {}
    schema: dict[str, Any] = {"type": kind}
    if kind == "array" and isinstance(node, ast.Subscript):
        schema["items"] = _json_type(node.slice)
    return schema


def _literal(node: ast.expr) -> tuple[bool, Any]:
    """A default as a small JSON value, else unknown: big literals cost time under the lock and bloat documents."""
    if sum(1 for _ in itertools.islice(ast.walk(node), MAX_DEFAULT_NODES + 1)) > MAX_DEFAULT_NODES:
        return False, None
    try:
        value = ast.literal_eval(node)
        text = json.dumps(value)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False, None
    return (True, value) if len(text) <= MAX_DEFAULT_JSON else (False, None)


def _input_schema(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Any]:
    """Defaults belong to the last positional parameters, positional-only ones included (``def f(a=1, /)``)."""
    positional = func.args.posonlyargs + func.args.args
    args = [a for a in positional + func.args.kwonlyargs if a.arg not in ("self", "cls")]
    tail = positional[len(positional) - len(func.args.defaults):] if func.args.defaults else []
    defaults: dict[str, ast.expr] = {a.arg: d for a, d in zip(tail, func.args.defaults, strict=True)}
    defaults.update({a.arg: d for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True)
                     if d is not None})
    props: dict[str, Any] = {}
    required = []
    for a in args:
        prop = {"title": a.arg.replace("_", " ").title(), **_json_type(a.annotation)}
        if a.arg in defaults:
            known, value = _literal(defaults[a.arg])
            if known:
                prop["default"] = value
        else:
            required.append(a.arg)
        props[a.arg] = prop
    return {"title": "Input", "type": "object", "properties": props, "required": required}


def _route(decorator: ast.expr, name: str) -> str:
    if isinstance(decorator, ast.Call):
        for kw in decorator.keywords:
            if kw.arg == "route" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                route = kw.value.value.strip()
                route = route if route.startswith("/") else "/" + route
                if _ROUTE.match(route):
                    return route
    return "/" + name


def answer_for(name: str, output: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    """A deterministic, small handler shaped by the output type (never user code)."""

    def handler(body: dict[str, Any]) -> Any:
        text = json.dumps(body, sort_keys=True, default=str)
        digest = int(hashlib.sha256(f"{name}:{text}".encode()).hexdigest()[:8], 16)
        kind = output.get("type")
        if kind == "string":
            shown = text if len(text) <= 80 else text[:77] + "..."
            return f"{name}({shown}) [sandbox codespace: user code is not run]"
        if kind == "integer":
            return digest % 1000
        if kind == "number":
            return round((digest % 100000) / 1000, 3)
        if kind == "boolean":
            return digest % 2 == 0
        if kind == "array":
            return []
        return {"api": name, "input": body, "note": "sandbox codespace: user code is not run"}

    return handler


def _api(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Api | None:
    for decorator in func.decorator_list:
        if _dotted(decorator) in ("api", "task"):
            output = {"title": "Output", **_json_type(func.returns)}
            doc = (ast.get_docstring(func) or "").strip().splitlines()
            about = printable(doc[0]) if doc else ""  # shown in forms and terminals: no escapes, no bidi
            return Api(func.name, _route(decorator, func.name), about, _input_schema(func), output,
                       answer_for(func.name, output))
    return None


def read_service(files: dict[str, bytes]) -> DevService:
    """The service of the synced files; :class:`DevSchemaError` says what is wrong and on which line."""
    path, wanted = service_target(files)
    if path not in files:
        raise DevSchemaError(f"service file {path} not found in the synced files")
    if len(files[path]) > MAX_SERVICE_BYTES:
        raise DevSchemaError(f"service file {path} is over {MAX_SERVICE_BYTES} bytes: the sandbox does not read it")
    try:
        tree = ast.parse(files[path], filename=path)
    except SyntaxError as exc:
        where = f"{path}, line {exc.lineno}" if exc.lineno else path
        raise DevSchemaError(f"SyntaxError: {printable(str(exc.msg))} ({where})") from None
    except (ValueError, RecursionError, MemoryError):
        raise DevSchemaError(f"{path} cannot be parsed (null bytes or nesting too deep)") from None
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)
               and any(_dotted(d) == "service" for d in n.decorator_list)]
    chosen = next((c for c in classes if c.name == wanted), None) if wanted else (classes[0] if classes else None)
    if chosen is None:
        what = f"class {wanted}" if wanted else "a class decorated with @bentoml.service"
        raise DevSchemaError(f"{path} has no {what}")
    try:
        apis = [a for n in chosen.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                if (a := _api(n)) is not None]
    except _UNREADABLE:
        raise DevSchemaError(f"the APIs of {chosen.name} in {path} cannot be read (nesting too deep)") from None
    return DevService(path=path, name=chosen.name, apis=tuple(apis))
