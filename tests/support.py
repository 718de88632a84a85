"""Helpers every test folder shares, written once: waiting for statuses, running coroutines as a kernel
would, fast retry policies, the sandbox fixture factory, deployment bodies and a local bentoml store.

A plain module (tests/ is on sys.path through tests/conftest.py), not a conftest, so that imports are
unambiguous. The core is imported lazily where it is only needed by some folders, so that a sandbox
test never depends on the core importing cleanly.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import httpx
import pytest
import yaml

from bentocloud_jupyter.core.rest.http import RetryPolicy

if TYPE_CHECKING:
    from bentocloud_jupyter.core.rest.client import BentoCloudClient
    from bentocloud_jupyter.core.rest.models import Deployment
    from bentocloud_jupyter.sandbox import Sandbox

T = TypeVar("T")
Scope = Literal["session", "package", "module", "class", "function"]

# Two policies, because tests count attempts: four for the client tests (``fail_next = 2`` succeeds),
# two for the front-end tests (a persistent 503 gives up after about 20 ms).
FAST_RETRY = RetryPolicy(max_attempts=4, backoff=0.01, max_backoff=0.05, max_total=5.0)
SHORT_RETRY = RetryPolicy(max_attempts=2, backoff=0.01, max_backoff=0.02, max_total=2.0)


# ------------------------------------------------------------------------------------------ waiting


def poll(read: Callable[[], T], done: Callable[[T], bool], timeout: float, step: float,
         stuck: Callable[[T], str] | None) -> T:
    """Call ``read()`` every ``step`` s until ``done``; past ``timeout`` fail with ``stuck(value)``, or,
    without ``stuck``, hand back the last value for the caller to judge."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            assert stuck is None, stuck(value)
            return value
        time.sleep(step)


async def until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    """Wait on the running loop until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(step)


def wait_status(name: str, statuses: set[str] | frozenset[str], timeout: float = 15.0) -> Deployment:
    """Poll the current context's blocking client (20 ms) until the deployment is in ``statuses``."""
    from bentocloud_jupyter.core.rest import session

    client, _ = session.client_for()
    return poll(lambda: client.get_deployment(name), lambda d: d.status in statuses, timeout, 0.02,
                lambda d: f"{name} stuck in {d.status}")


def wait_raw_status(client: httpx.Client, name: str, wanted: set[str], timeout: float = 5.0) -> dict[str, Any]:
    """Poll GET deployment with plain httpx (the sandbox tests use no client of ours) until ``wanted``."""
    def read() -> dict[str, Any]:
        data: dict[str, Any] = client.get(f"/api/v2/deployments/{name}", params={"cluster": ""}).json()
        return data

    return poll(read, lambda d: d["status"] in wanted, timeout, 0.01, lambda d: f"{name} stuck in {d['status']}")


def wait_settled(client: BentoCloudClient, name: str, timeout: float = 10.0) -> Deployment:
    """The deployment once settled, or as it is when ``timeout`` runs out (the caller asserts)."""
    return poll(lambda: client.get_deployment(name), lambda d: d.is_settled, timeout, 0.02, None)


def deploy(bento: str, name: str, **options: Any) -> Deployment:
    """Create a deployment through the public API of the core, in the current context."""
    from bentocloud_jupyter.core import api

    view = api.deploy(bento, name=name, **options)
    return view.deployment  # type: ignore[union-attr]


def ready(name: str, bento: str = "summarizer:v3", **options: Any) -> str:
    """Deploy ``name`` once per sandbox (the current context's) and wait until it serves."""
    from bentocloud_jupyter.core.errors import NotFoundError
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.rest.models import READY_STATUSES

    try:
        session.client_for()[0].get_deployment(name)
    except NotFoundError:
        deploy(bento, name, **options)
    wait_status(name, READY_STATUSES, timeout=10.0)
    return name


class CellRunner(Protocol):
    """What the magics tests' ``Cell`` offers here: run a source, get a run with ``text`` and ``error``."""

    def __call__(self, source: str) -> Any: ...


def ready_by_magic(cell: CellRunner, name: str, bento: str = "summarizer:v3", options: str = "") -> str:
    """Deploy ``name`` with ``%deploy`` unless it exists, then ``%bentocloud status --wait`` for it."""
    if "Deployment" not in cell(f"%bentocloud get {name}").text:
        cell(f"%deploy {bento} -n {name} {options}")
    assert cell(f"%bentocloud status {name} --wait --timeout 30").error is None
    return name


def run_loop(main: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    """Run ``main()`` on a new event loop (as a kernel would), then stop every hub and async client on it."""
    from bentocloud_jupyter.core.rest import session

    async def wrapper() -> T:
        try:
            return await asyncio.wait_for(main(), timeout)
        finally:
            for hub in session.hubs():
                await hub.close()
            session.close_all()
            await asyncio.sleep(0.05)  # let the scheduled aclose() of the async clients finish

    return asyncio.run(wrapper())


# ---------------------------------------------------------------------------------------- sandboxes


def make_sandbox_fixture(scope: Scope = "module", speed: float = 50.0,
                         then: Callable[[Sandbox], object] | None = None, **knobs: Any) -> Any:
    """A pytest fixture yielding a started sandbox (127.0.0.1, free port) shared over ``scope``.

    At speed 50 a deployment runs after ~70 ms; ``then(sandbox)`` runs once it listens; ``knobs`` go to
    ``Sandbox(...)``. Assign the result to the fixture's name: ``sandbox = make_sandbox_fixture("package")``.
    """

    @pytest.fixture(scope=scope)
    def sandbox_fixture() -> Iterator[Sandbox]:
        from bentocloud_jupyter.sandbox import Sandbox

        with Sandbox(speed=speed, **knobs) as sb:
            if then is not None:
                then(sb)
            yield sb

    return sandbox_fixture


def raw_client(sandbox: Sandbox) -> httpx.Client:
    """A plain httpx client of the sandbox's REST API, authenticated with its token."""
    return httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": sandbox.token}, timeout=10)


def use_context(sandbox: Sandbox, name: str, email: str | None = None) -> Sandbox:
    """Save a context ``name`` pointing at ``sandbox`` in this test's credentials file and make it current."""
    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.core.tokens import Token

    config.save_context(config.Context(name, sandbox.url, Token(sandbox.token), email))
    config.set_current_context(name)
    return sandbox


class FakeClock:
    """A clock the test moves by hand, for exact lifecycle checks."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ----------------------------------------------------------------------------------- request bodies


def body(bento: str = "summarizer:v3", name: str | None = None, *, service: str = "Summarizer",
         instance_type: str | None = "cpu.2", scaling_max: int = 2, envs: Any = None) -> dict[str, Any]:
    """A create/update body for our client, one service configured the way bentoml sends it."""
    return {
        "access_authorization": False, "envs": envs, "labels": [{"key": "team", "value": "ml"}], "secrets": None,
        "services": {service: {"instance_type": instance_type,
                               "scaling": {"min_replicas": 1, "max_replicas": scaling_max, "policy": None},
                               "envs": None, "deployment_strategy": None, "extras": None,
                               "cold_start_timeout": None, "config_overrides": {}}},
        "canary": None, "bento": bento, "name": name, "dev": False,
    }


def create(client: httpx.Client, **fields: Any) -> httpx.Response:
    """POST a create body shaped like bentoml's (every key present, nulls included) with plain httpx."""
    full: dict[str, Any] = {"access_authorization": False, "envs": None, "labels": None, "secrets": None,
                            "services": {}, "canary": None, "bento": "summarizer:v1", "name": None, "dev": False}
    cluster = fields.pop("cluster", "")
    full.update(fields)
    return client.post("/api/v2/deployments", params={"cluster": cluster}, json=full)


# ------------------------------------------------------------------- a local bentoml store, by hand

CREATED = "2026-11-28T05:24:40.710123+00:00"


def make_model(home: Path, name: str = "tiny_model", version: str = "m1", size: int = 200_000) -> str:
    """A model in the layout bentoml 1.4 writes (model.yaml, random weights, ``latest``)."""
    folder = home / "models" / name / version
    folder.mkdir(parents=True)
    (folder / "model.yaml").write_text(yaml.safe_dump({
        "name": name, "version": version, "module": "bentoml.picklable_model", "labels": {"stage": "test"},
        "options": {}, "metadata": {"accuracy": 0.9}, "context": {
            "framework_name": "", "framework_versions": {}, "bentoml_version": "1.4.40", "python_version": "3.11.7"},
        "signatures": {"__call__": {"batchable": False}}, "api_version": "v1", "creation_time": CREATED},
        sort_keys=False))
    (folder / "saved_model.pkl").write_bytes(os.urandom(size))
    (home / "models" / name / "latest").write_text(version)
    return f"{name}:{version}"


def _bento_manifest(name: str, version: str, service: str, models: tuple[str, ...]) -> dict[str, Any]:
    model_infos = [{"tag": tag, "module": "bentoml.picklable_model", "creation_time": CREATED} for tag in models]
    return {
        "service": f"service:{service}", "name": name, "version": version, "bentoml_version": "1.4.40",
        "creation_time": CREATED, "labels": {"owner": "tests"}, "models": [], "entry_service": service,
        "services": [{"name": service, "service": "", "models": model_infos, "dependencies": [], "config": {}}],
        "envs": [{"name": "GREETING", "value": "hi"}], "schema": {}, "args": {}, "spec": 2,
        "image": {"base_image": "python:3.11-slim", "python_version": "3.11", "commands": [],
                  "python_requirements": "bentoml==1.4.40\n", "post_commands": [], "build_include": []}}


def make_bento(home: Path, name: str = "tiny", version: str = "b1", models: tuple[str, ...] = (),
               service: str = "Tiny") -> str:
    """A built bento in the layout bentoml 1.4 writes (bento.yaml, src/, env/, apis/, ``latest``)."""
    folder = home / "bentos" / name / version
    (folder / "src").mkdir(parents=True)
    (folder / "apis").mkdir()
    (folder / "README.md").write_text(f"# {name}\n\nA tiny test service.\n")
    (folder / "src" / "service.py").write_text(f"import bentoml\n\n@bentoml.service\nclass {service}:\n    pass\n")
    (folder / "apis" / "openapi.yaml").write_text("openapi: 3.0.2\n")
    (folder / "env" / "python").mkdir(parents=True)
    (folder / "env" / "python" / "requirements.txt").write_text("bentoml==1.4.40\n")
    (folder / "bento.yaml").write_text(yaml.safe_dump(_bento_manifest(name, version, service, models),
                                                      sort_keys=False))
    if models:  # bentoml keeps a models/ folder inside built bentos; it must not be uploaded with the bento
        (folder / "models").mkdir()
        (folder / "models" / "placeholder").write_text("not uploaded")
    (home / "bentos" / name / "latest").write_text(version)
    return f"{name}:{version}"


def tree(folder: Path, skip: str | None = None) -> dict[str, bytes]:
    """Every regular file under ``folder`` (relative path -> bytes), optionally minus one top folder."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not (skip and relative.split("/")[0] == skip):
            files[relative] = path.read_bytes()
    return files
