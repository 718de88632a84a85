"""Everything a batch checks before it sends a call: its knobs, every input, the deployment's state and API.

Why blocking: this runs in the caller's thread (even on the kernel's loop it is a few quick requests, as a
single ``call`` is), so bad input is one line raised at once, and nothing is sent to the API.
"""

from __future__ import annotations

import json as jsonlib
import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

from bentocloud_jupyter.core.calls.batch import Plan
from bentocloud_jupyter.core.calls.conform import mismatch
from bentocloud_jupyter.core.calls.invoke import (
    CallRequest,
    OpenAPIView,
    call_exchange,
    http_options,
    probe_exchange,
    spec_exchange,
)
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, NotFoundError, NotReadyError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, check_duration
from bentocloud_jupyter.core.rest.models import Deployment

__all__ = ["MAX_INPUTS", "check_knobs", "plan", "requests_for"]

MAX_INPUTS = 1_000_000


def check_knobs(concurrency: Any, retries: Any, timeout: Any) -> float:
    """Refuse bad knobs with one line; the per-request timeout in seconds (the session's when None)."""
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise InvalidInputError(f"concurrency must be a whole number of at least 1, not {concurrency!r}.")
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 20:
        raise InvalidInputError(f"retries must be a whole number from 0 to 20, not {retries!r}.")
    if timeout is None:
        return session.settings.timeout
    return check_duration(timeout, "timeout", maximum=MAX_REQUEST_TIMEOUT)


def _has_files(value: Any) -> bool:
    return isinstance(value, dict) and any(isinstance(v, Path) for v in value.values())


def _multipart(api: str, value: dict[str, Any]) -> CallRequest:
    """A dict holding paths, sent as BentoML's clients send file inputs: ``multipart/form-data``, each path a
    file part named by its key, every other value a JSON text field."""
    files, data = [], {}
    for key, item in value.items():
        if isinstance(item, Path):
            try:
                files.append((str(key), (item.name, item.expanduser().read_bytes(),
                                         mimetypes.guess_type(item.name)[0] or "application/octet-stream")))
            except (OSError, ValueError) as exc:
                raise InvalidInputError(f"Cannot read {str(item)!r}: {getattr(exc, 'strerror', None) or exc}.") \
                    from None
        else:
            data[str(key)] = jsonlib.dumps(item)
    encoded = httpx.Request("POST", "http://127.0.0.1/", data=data, files=files)
    base = CallRequest.of(api, {}, None)
    return CallRequest(base.api, base.path, encoded.read(), encoded.headers["content-type"])


def _request(api: str, value: Any) -> CallRequest:
    if _has_files(value):
        return _multipart(api, value)
    if isinstance(value, Path):
        return CallRequest.of(api, None, value)
    return CallRequest.of(api, value, None)


def requests_for(api: str, inputs: Iterable[Any]) -> list[CallRequest]:
    """One request per input: a :class:`~pathlib.Path` is a file's bytes, a dict holding paths a multipart form
    (as BentoML's clients send files), anything else the JSON body."""
    if isinstance(inputs, (str, bytes, dict)):
        raise InvalidInputError("inputs must be a list of bodies (or of file paths), one per call; "
                                "for a single call use call().")
    out = []
    for index, value in enumerate(inputs):
        if index >= MAX_INPUTS:
            raise InvalidInputError(f"at most {MAX_INPUTS} inputs in one batch; split it.")
        try:
            out.append(_request(api, value))
        except InvalidInputError as exc:
            raise InvalidInputError(f"input #{index}: {exc.message}") from None
    if not out:
        raise InvalidInputError("inputs is empty: give at least one body.")
    return out


def _usable(deployment: Deployment) -> bool:
    """True when calls can go now; False when it is scaled to zero (wake it first); else one line."""
    if deployment.status == "running":
        return True
    if deployment.status == "scaled-to-zero":
        return False
    raise NotReadyError(f"Deployment {deployment.name!r} is {deployment.status}, neither running nor scaled to "
                        "zero; nothing was sent.",
                        hint=Hint("status", {"name": deployment.name, "wait": True}, why="to wait until it runs"))


def _spec(deployment: Deployment, ctx: Context) -> OpenAPIView | None:
    """The documented APIs, or None when the deployment documents none we can read (then nothing is checked)."""
    exchange = spec_exchange(deployment, ctx)
    try:
        with httpx.Client(**http_options()) as http:
            return exchange.read(http.send(exchange.request(http)), 0.0)
    except (httpx.HTTPError, BentoCloudError):
        return None


def _check_api(view: OpenAPIView, api: str, inputs: list[Any], requests: list[CallRequest]) -> None:
    spec = view.get(api)
    if spec is None:
        known = ", ".join(a.name for a in view.apis) or "none"
        raise NotFoundError(f"Deployment {view.deployment!r} has no API {api!r} (its APIs: {known}); nothing was "
                            "sent.")
    for index, (value, request) in enumerate(zip(inputs, requests, strict=True)):
        why = None if isinstance(value, Path) or request.kind != "application/json" else mismatch(
            _parsed(value), spec)
        if why:
            raise InvalidInputError(f"input #{index} does not match API {api!r}: {why}; nothing was sent.")


def _parsed(value: Any) -> Any:
    return jsonlib.loads(value) if isinstance(value, (str, bytes)) else value


def plan(name: str, api: str, inputs: Iterable[Any], *, concurrency: int, retries: int, timeout: float | None,
         context: str | None, cluster: str | None) -> Plan:
    """Check everything, then build one exchange per input.

    Raises:
        InvalidInputError: a bad knob or input, or an input the schema refuses. NotFoundError: no such deployment
        or API. NotReadyError: neither running nor scaled to zero. As ``call`` for BentoCloud's answers.
    """
    seconds = check_knobs(concurrency, retries, timeout)
    values = list(inputs) if not isinstance(inputs, (str, bytes, dict)) else inputs
    requests = requests_for(api, values)
    client, resolved = session.client_for(context)
    deployment = client.get_deployment(name, cluster)
    running = _usable(deployment)
    ctx = resolved.context
    view = _spec(deployment, ctx) if running else None
    if view is not None and view.apis:
        _check_api(view, api, list(values), requests)
    exchanges = tuple(call_exchange(deployment, ctx, r) for r in requests)
    probe = None if running else probe_exchange(deployment, ctx)
    return Plan(name, api.strip("/"), exchanges, concurrency, retries, seconds, probe)
