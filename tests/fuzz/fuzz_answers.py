"""Malformed answers of a hostile BentoCloud, drawn from a seeded ``random.Random``: the raw material of
the client fuzz (``test_fuzz.py``). Each answer is what an ``httpx.MockTransport`` hands back, or an
httpx error it raises (a dropped connection)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import httpx

# Keys our models read, so random objects often look almost right.
KEYS = ["name", "status", "items", "total", "start", "count", "manifest", "envs", "size_bytes", "created_at",
        "updated_at", "latest_revision", "targets", "config", "services", "scaling", "min_replicas",
        "max_replicas", "urls", "labels", "key", "value", "cluster", "content", "token", "code", "version",
        "repository", "bento", "entry_service", "models", "upload_status", "display_name", "resources",
        "requests", "gpu_config", "is_first", "scopes", "expired_at", "email", "uid", "stage", "type",
        "presigned_url", "presigned_upload_url", "upload_id", "transmission_strategy", "access_authorization"]
ODD_SCALARS: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, 10**30, -(10**30), 1e308, -1e308, 0.5, "", " ", "NaN", "nan",
    "Infinity", "-Infinity", "1e999", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2024-13-45",
    "x" * 3000, "\x00", "\x1b[31mred\x1b[0m", "名前", "../../etc/passwd", "http://[::1", "javascript:alert(1)",
    "<script>x</script>", "12345", "-5", "true", "false", "running", "main", "cpu.1", "s:v1",
]
# Raw JSON texts Python's json module accepts, though they are no valid JSON for other parsers.
ODD_NUMBERS = ["1e999", "-1e999", "NaN", "Infinity", "-Infinity", "9" * 5000, "1" + "0" * 400, "-0", "1e-999"]
STATUSES = [200] * 24 + [201, 204, 206, 299, 301, 302, 304, 400, 401, 403, 404, 409, 418, 422, 429, 500, 502,
                         503, 504, 599, 600, 999]
CONTENT_TYPES = [None, "application/json", "text/html", "text/plain", "application/octet-stream",
                 "application/json; charset=latin-1", "application/xml", "multipart/form-data; boundary=x", ""]
RETRY_AFTER = [None, "0", "1", "0.01", "-1", "nan", "inf", "1e999", "NaN", "", "soon", "99999999999999999999",
               "Wed, 21 Oct 2015 07:28:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT"]


def random_json(rng: random.Random, depth: int = 0) -> Any:
    """A random JSON value whose objects use :data:`KEYS`, at most five levels deep."""
    roll = rng.random()
    if depth >= 5 or roll < 0.45:
        return rng.choice(ODD_SCALARS)
    if roll < 0.75:
        return {rng.choice(KEYS): random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))}
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def mutate(rng: random.Random, value: Any, depth: int = 0) -> Any:
    """``value`` with one field somewhere replaced, dropped or retyped (the answer looks nearly right)."""
    if isinstance(value, dict) and value and depth < 8:
        key = rng.choice(list(value))
        out = dict(value)
        action = rng.random()
        if action < 0.2:
            del out[key]
        elif action < 0.6:
            out[key] = random_json(rng, 3)
        else:
            out[key] = mutate(rng, value[key], depth + 1)
        return out
    if isinstance(value, list) and value and depth < 8:
        index = rng.randrange(len(value))
        return [mutate(rng, v, depth + 1) if i == index else v for i, v in enumerate(value)]
    return random_json(rng, 3)


def deployment(name: str = "d") -> dict[str, Any]:
    """A plausible deployment answer, the seed that :func:`mutate` spoils."""
    return {"name": name, "status": "running", "cluster": {"name": "c"}, "urls": ["http://127.0.0.1:1/_svc/d"],
            "created_at": "2025-03-01T10:00:00Z", "labels": [{"key": "k", "value": "v"}], "creator": {"name": "u"},
            "latest_revision": {"name": "r1", "targets": [{"name": "main", "bento": {
                "repository": {"name": "s"}, "version": "v1"}, "config": {"services": {"Svc": {
                    "instance_type": "cpu.1", "scaling": {"min_replicas": 1, "max_replicas": 2}}}}}]}}


TEMPLATES: dict[str, Any] = {
    "deployments": deployment(),
    "bento": {"name": "v1", "repository": {"name": "s"}, "created_at": "2025-03-01T10:00:00Z",
              "manifest": {"size_bytes": 100, "entry_service": "Svc", "envs": [{"name": "A", "value": "1"}],
                           "models": ["m:v1"]}, "upload_status": "success", "image_build_status": "success"},
    "model": {"name": "v1", "repository": {"name": "m"}, "created_at": "2025-03-01T10:00:00Z",
              "manifest": {"size_bytes": 100, "module": "bentoml.sklearn"}, "upload_status": "success"},
    "auth/current": {"name": "sandbox-user", "email": "a@b", "first_name": "A", "last_name": "B"},
    "current_org": {"name": "sandbox", "uid": "u"},
    "clusters": {"name": "c", "description": "", "is_first": True},
    "instance_types": {"name": "cpu.1", "config": {"resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}},
    "org_secrets": {"name": "s", "content": {"type": "env", "items": [{"key": "K"}]}},
    "api_tokens": {"name": "t", "scopes": ["api"], "expired_at": "2030-01-01T00:00:00Z"},
    "auth/": {"code": "abc", "token": "t"},
    "upload": {"presigned_url": "http://127.0.0.1:1/x", "upload_id": "u", "transmission_strategy": "proxy"},
}


def plausible(rng: random.Random, path: str = "") -> Any:
    """An answer shaped like the one BentoCloud gives at ``path`` (a page of them, now and then), or any."""
    fitting = [t for key, t in TEMPLATES.items() if key in path] or list(TEMPLATES.values())
    item = fitting[0] if rng.random() < 0.8 else rng.choice(list(TEMPLATES.values()))
    if rng.random() < 0.5 or path.endswith(("/deployments", "/bentos", "/models", "/clusters", "_tokens")):
        return {"items": [item] * rng.randint(0, 3), "start": 0, "count": 3, "total": rng.choice([0, 1, 3, 10**6])}
    return [item] if "instance_types" in path or rng.random() < 0.1 else item


BY_KEY: dict[str, list[Any]] = {
    "created_at": ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z", 0, "x", {}],
    "updated_at": ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", [], "2025-02-30T00:00:00Z"],
    "size_bytes": ["12345", "a lot", -1, 10**30, 1.5, None, [], "1e3"],
    "envs": ["A=1", 5, {"name": "A"}, [1, "A", None, {"value": "v"}, {"name": 3}], [[]]],
    "name": [None, 5, "", {"x": 1}, "x" * 5000, "a\x1b[2Jb", "ok"],
    "status": [None, 5, ["running"], "running", "weird-status"],
    "labels": ["k=v", {"k": "v"}, [1, {"key": None}], [{"key": "k", "value": {"x": 1}}]],
    "urls": ["http://x", [1, None], [{"u": 1}], ["http://[::1"]],
    "scaling": [[], "1..2", {"min_replicas": "2", "max_replicas": 10**30}, {"min_replicas": -1}],
    "targets": ["main", [None, 1, "x"], [{"name": "main", "config": []}], {}],
    "total": [10**30, -1, "many", 1.5, None], "start": [-5, "x", 10**30], "count": [0, -1, "x"],
}


def spoil(rng: random.Random, value: Any) -> Any:
    """``value`` with some known fields (at any depth) given an odd value of the kind servers get wrong."""
    if isinstance(value, dict):
        return {k: rng.choice(BY_KEY[k]) if k in BY_KEY and rng.random() < 0.4 else spoil(rng, v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [spoil(rng, v) for v in value]
    return value


def body_text(rng: random.Random, path: str = "") -> bytes:
    """The bytes of one answer body: random or nearly right JSON, odd numbers, deep nesting, truncation, junk."""
    roll = rng.random()
    if roll < 0.15:
        return json.dumps(mutate(rng, plausible(rng, path))).encode()
    if roll < 0.4:
        return json.dumps(spoil(rng, plausible(rng, path))).encode()
    if roll < 0.5:
        return json.dumps(random_json(rng)).encode()
    if roll < 0.6:
        key = rng.choice(KEYS + ["total", "start", "count", "size_bytes", "min_replicas", "created_at"] * 4)
        item = f'{{"{key}": {rng.choice(ODD_NUMBERS)}, "name": "n", "status": "running"}}'
        if rng.random() < 0.5:
            return item.encode()
        numbers = ", ".join(f'"{k}": {rng.choice([*ODD_NUMBERS, "0", "1", "3"])}' for k in ("total", "start", "count"))
        return f'{{"items": [{item}], {numbers}}}'.encode()
    if roll < 0.68:
        depth = rng.choice([65, 200, 1000, 5000, 100_000])
        opener, closer = rng.choice([("[", "]"), ('{"a":', "}"), ('{"items":[', "]}")])
        return (opener * depth + "1" + closer * depth).encode()
    if roll < 0.8:
        whole = json.dumps(plausible(rng, path)).encode()
        return whole[:rng.randrange(len(whole))]
    return rng.choice([b"", b"null", b"<html>proxy error</html>", b"\xff\xfe\x00{", b"\xef\xbb\xbf{}", b"[]",
                       b"{}", b'""', b"0", b"\x00" * 64, b'{"a": 1} trailing', b"{'single': 'quotes'}"])


def answer(rng: random.Random, path: str = "") -> httpx.Response | httpx.HTTPError:
    """One hostile answer: status, headers, body, or a transport failure."""
    if rng.random() < 0.04:
        return rng.choice([httpx.ConnectError("refused"), httpx.ReadTimeout("slow"),
                           httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset")])
    headers: dict[bytes, bytes] = {}  # bytes, as a server may send any (UTF-8, latin-1, controls)
    content_type = rng.choice(CONTENT_TYPES)
    if content_type is not None:
        headers[b"content-type"] = content_type.encode()
    retry_after = rng.choice(RETRY_AFTER)
    if retry_after is not None and rng.random() < 0.5:
        headers[b"retry-after"] = retry_after.encode()
    if rng.random() < 0.1:
        key = rng.choice([b"x-trace-id", b"etag", b"location", b"retry-after", b"content-type"])
        headers[key] = rng.choice([b"\x7f", b"x" * 5000, "名".encode(), b"\xff\xfe", b""])
    return httpx.Response(rng.choice(STATUSES), content=body_text(rng, path), headers=list(headers.items()))


class HostileTransport:
    """A MockTransport handler answering every request with :func:`answer`; past ``limit`` requests in one
    call it raises :class:`Endless`, so an unbounded pager is reported instead of hanging the test."""

    def __init__(self, rng: random.Random, limit: int = 300) -> None:
        self.rng, self.limit, self.seen = rng, limit, 0
        self.fixed: Callable[[httpx.Request], httpx.Response] | None = None

    def start_call(self) -> None:
        """A new call: count afresh, and now and then answer the same full page forever (a pager's trap)."""
        self.seen = 0
        self.fixed = None
        if self.rng.random() < 0.1:
            page = {"items": [deployment(f"d{i}") for i in range(3)], "start": 0, "count": 3,
                    "total": self.rng.choice([10**6, 10**12, 2**63])}
            self.fixed = lambda request: httpx.Response(200, json=page)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen > self.limit:
            raise Endless(f"{self.seen} requests in one call")
        if self.fixed is not None:
            return self.fixed(request)
        reply = answer(self.rng, request.url.path)
        if isinstance(reply, httpx.HTTPError):
            raise reply
        return reply


class Endless(BaseException):
    """Raised by the transport when a single call keeps asking (BaseException: no ``except Exception`` hides it)."""
