"""bentoml's own codespace client and ``bentoml code`` (driven under a pseudo-terminal) against the sandbox.

The judges: ``Deployment.list_files/upload_files/delete_files/_init_deployment_files``, the dev create of
``bentoml code``, ``list(dev=True)`` (``q=is:dev``) and the CLI's watcher, which must reach "Watching for
changes" and sync an edit and a delete. Only loopback traffic; BENTOML_DO_NOT_TRACK is set.
"""

from __future__ import annotations

import hashlib
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import create, make_sandbox_fixture, poll, raw_client, wait_raw_status

os.environ["BENTOML_DO_NOT_TRACK"] = "True"
bentoml = pytest.importorskip("bentoml")

from bentoml._internal.bento import Bento  # noqa: E402
from bentoml._internal.cloud import BentoCloudClient  # noqa: E402
from bentoml._internal.cloud.base import Spinner  # noqa: E402
from bentoml._internal.cloud.deployment import Deployment, ensure_bento  # noqa: E402
from bentoml.exceptions import BentoMLException  # noqa: E402
from bentoml_cli.deployment import create_deployment  # noqa: E402
from rich.console import Console  # noqa: E402

from bentocloud_jupyter.sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.compat
sandbox = make_sandbox_fixture(scope="function")
SERVICE = '''import bentoml


@bentoml.service
class Tiny:
    @bentoml.api
    def hello(self, name: str = "world") -> str:
        return f"hello {name}"
'''
BENTOFILE = 'service: "service:Tiny"\ninclude:\n  - "*.py"\npython:\n  lock_packages: false\n'
WATCHING = "Watching for changes"


@pytest.fixture
def cloud(sandbox: Sandbox) -> BentoCloudClient:
    return BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with raw_client(sandbox) as c:
        yield c


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny project; the working folder is its parent, as for a user running ``bentoml code proj``."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "service.py").write_text(SERVICE)
    (folder / "bentofile.yaml").write_text(BENTOFILE)
    return folder


def remote(client: httpx.Client, name: str) -> dict[str, str]:
    resp = client.get(f"/api/v2/deployments/{name}/files", params={"cluster": ""})
    assert resp.status_code == 200, resp.text
    return {f["path"]: f["md5"] for f in resp.json()["files"]}


def running(client: httpx.Client, name: str) -> None:
    wait_raw_status(client, name, {"running"}, timeout=10)


def test_sdk_dev_create_list_and_files(sandbox: Sandbox, cloud: BentoCloudClient, client: httpx.Client,
                                       project: Path) -> None:
    dep = create_deployment(bento=str(project), name="cs-sdk", dev=True, wait=False, _cloud_client=cloud)
    assert dep.is_dev and dep.get_endpoint_urls() == [f"{sandbox.url}/_svc/cs-sdk"]
    assert create(client, name="prod", bento="summarizer:v3").status_code == 200
    assert [d.name for d in cloud.deployment.list(dev=True)] == ["cs-sdk"]  # all clusters: q=is:dev
    scoped = cloud.deployment.list(cluster="gcp-us-central-1", dev=True)  # q dropped: bentoml filters is_dev
    assert {d.name: d.is_dev for d in scoped} == {"cs-sdk": True, "prod": False}
    running(client, "cs-sdk")
    assert dep.list_files().files == []
    dep.upload_files([("notes/a.txt", b"alpha"), ("b.bin", bytes(range(256)))])
    listed = {f.path: (f.size, f.md5) for f in dep.list_files().files}
    assert listed["notes/a.txt"][0] == 5 and listed["b.bin"][0] == 256
    dep.delete_files(["notes/a.txt", "never-there.txt"])
    assert [f.path for f in dep.list_files().files] == ["b.bin"]
    dep._init_deployment_files(str(project), spinner=Spinner(console=Console(quiet=True)))
    assert {"service.py", "bentofile.yaml", "requirements.txt", "setup.sh", ".project_ready"} <= set(
        remote(client, "cs-sdk"))
    url = dep.get_endpoint_urls()[0]
    poll(lambda: httpx.get(f"{url}/readyz").status_code, lambda s: s == 200, timeout=5, step=0.02,
         stuck=lambda s: f"readyz {s}")
    answer = bentoml.SyncHTTPClient(url).hello(name="ada")
    assert isinstance(answer, str) and "ada" in answer


def test_sdk_errors_on_hostile_or_non_dev(cloud: BentoCloudClient, client: httpx.Client) -> None:
    create(client, name="prod2", bento="summarizer:v3")
    create(client, name="cs-raw", bento="summarizer:v3", dev=True)
    prod = cloud.deployment.get("prod2")
    with pytest.raises(BentoMLException, match="404"):
        prod.list_files()
    dev = cloud.deployment.get("cs-raw")
    with pytest.raises(BentoMLException, match="400"):
        dev.upload_files([("../outside.py", b"x")])
    assert dev.list_files().files == []


def spawn(sandbox: Sandbox, args: list[str], cwd: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``bentoml ARGS`` on a fresh pseudo-terminal (its own session, so it can be stopped by its group)."""
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True", COLUMNS="160", LINES="50", TERM="xterm")
    master, slave = pty.openpty()
    cli = str(Path(sys.executable).with_name("bentoml"))
    proc = subprocess.Popen([cli, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    return proc, master


class Terminal:
    """What the CLI printed so far, drained by a thread (a full pty buffer would block the CLI's writes);
    answers prompts once they show (after the TTY switches to raw mode)."""

    def __init__(self, proc: subprocess.Popen[bytes], master: int) -> None:
        self.proc, self.master, self.out = proc, master, b""
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO once the CLI has exited and the slave side closed
                return
            if not chunk:
                return
            self.out += chunk

    @property
    def text(self) -> str:
        return self.out.decode("utf-8", "replace")

    def read_until(self, done: Callable[[str], bool], timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while not done(self.text):
            ended = not self.reader.is_alive()
            assert not ended or done(self.text), f"bentoml code ended: {self.text[-1500:]!r}"
            assert time.monotonic() < deadline, f"bentoml code stuck; last output: {self.text[-1500:]!r}"
            time.sleep(0.05)
        return self.text

    def answer(self, prompt: str, keys: bytes) -> None:
        self.read_until(lambda t: prompt in t)
        time.sleep(0.5)  # the menu reads in raw mode: a key sent before that is cooked into "\n"
        os.write(self.master, keys)

    def stop(self) -> int:
        """Ctrl+C, as a user leaves ``bentoml code``; killed (its own group) if it does not exit."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.reader.join(5)
        os.close(self.master)
        return self.proc.returncode


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    opened: list[Terminal] = []
    yield opened
    for term in opened:
        if term.proc.poll() is None:
            term.stop()


def code(sandbox: Sandbox, project: Path, terminals: list[Terminal], *extra: str) -> Terminal:
    term = Terminal(*spawn(sandbox, ["code", *extra, str(project)], project.parent))
    terminals.append(term)
    return term


def synced(client: httpx.Client, name: str, check: Callable[[dict[str, str]], bool], change: Callable[[], object],
           note: Callable[[], str] = str) -> None:
    """Make a local change until the watcher has synced it (its inotify watch starts just after it says so)."""
    for _ in range(5):
        change()
        files = poll(lambda: remote(client, name), check, timeout=4, step=0.05, stuck=None)
        if check(files):
            return
    raise AssertionError(f"files never synced: {sorted(files)}; {note()}")


def test_bentoml_code_creates_watches_and_syncs(sandbox: Sandbox, client: httpx.Client, project: Path,
                                                terminals: list[Terminal]) -> None:
    term = code(sandbox, project, terminals)
    term.answer("Create a new codespace", b"\r")
    term.answer("Enter a name", b"cs-cli\r")
    term.read_until(lambda t: WATCHING in t and "Project files ready" in t)
    assert client.get("/api/v2/deployments/cs-cli").json()["manifest"]["dev"] is True
    assert ".project_ready" in remote(client, "cs-cli")
    extra = project / "extra.py"
    synced(client, "cs-cli", lambda f: "extra.py" in f, lambda: extra.write_text("X = 1\n"), lambda: term.text)
    term.read_until(lambda t: "Detected changes in extra.py" in t)
    synced(client, "cs-cli", lambda f: "extra.py" not in f, lambda: extra.unlink(missing_ok=True), lambda: term.text)
    assert term.stop() == 0
    assert "bentoml code --attach cs-cli" in term.text


def test_a_codespace_created_over_rest_is_listed_and_attached_by_bentoml_code(
        sandbox: Sandbox, cloud: BentoCloudClient, client: httpx.Client, project: Path,
        terminals: list[Terminal]) -> None:
    bento = ensure_bento(str(project), bare=True, push=True, _client=cloud.client)  # what ours pushes too
    tag = f"{bento.tag.name}:{bento.tag.version}" if isinstance(bento, Bento) else f"{bento.name}:{bento.version}"
    assert create(client, name="cs-ours", bento=tag, dev=True).status_code == 200  # the body ours sends
    running(client, "cs-ours")
    listed = code(sandbox, project, terminals)
    listed.answer("cs-ours", b"\r")  # the first option: the existing codespace
    listed.read_until(lambda t: WATCHING in t and "Project files ready" in t)
    assert "Create a new codespace" in listed.text and listed.stop() == 0
    attached = code(sandbox, project, terminals, "--attach", "cs-ours")
    attached.read_until(lambda t: WATCHING in t)
    edited = SERVICE.replace("hello", "greet")
    synced(client, "cs-ours", lambda f: f.get("service.py") == _md5(edited),
           lambda: (project / "service.py").write_text(edited), lambda: attached.text[-3000:])
    url = client.get("/api/v2/deployments/cs-ours").json()["urls"][0]
    poll(lambda: [r["route"] for r in httpx.get(f"{url}/schema.json").json()["routes"]], lambda r: r == ["/greet"],
         timeout=10, step=0.05, stuck=lambda r: f"schema routes {r}")
    assert attached.stop() == 0


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_a_binary_upload_as_bentoml_encodes_it(sandbox: Sandbox, client: httpx.Client) -> None:
    """The base64 body bentoml builds (standard alphabet, padded) decodes to the same bytes and md5."""
    create(client, name="cs-b64", bento="summarizer:v3", dev=True)
    dep: Deployment = BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url).deployment.get("cs-b64")
    payload = bytes(range(256)) + b"\xff\xfe"
    dep.upload_files([("bin/x", payload)])
    assert remote(client, "cs-b64")["bin/x"] == hashlib.md5(payload).hexdigest()
    assert {f.path: f.size for f in dep.list_files().files} == {"bin/x": len(payload)}


@pytest.fixture
def ours(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Our ``code()`` verb on a context ``sbx`` of the sandbox (fast probes, nothing left attached)."""
    from bentocloud_jupyter.core.api.codespaces import code as our_code
    from bentocloud_jupyter.core.codespaces import create as our_create
    from bentocloud_jupyter.core.codespaces import engine, handle
    from bentocloud_jupyter.core.credentials import auth, config

    monkeypatch.setattr(engine, "SETTLE", 0.05)
    monkeypatch.setattr(engine, "PROBE_EVERY", 0.02)
    monkeypatch.setattr(our_create, "POD_INTERVAL", 0.05)
    auth.login(sandbox.url, sandbox.token, "sbx")
    config.set_current_context("sbx")
    yield our_code
    handle.detach_all()


def test_a_codespace_bentoml_code_made_is_attached_by_ours(sandbox: Sandbox, client: httpx.Client, project: Path,
                                                           terminals: list[Terminal],
                                                           ours: Callable[..., Any]) -> None:
    from bentocloud_jupyter.core.codespaces.state import Phase

    term = code(sandbox, project, terminals)
    term.answer("Create a new codespace", b"\r")
    term.answer("Enter a name", b"cs-theirs\r")
    term.read_until(lambda t: WATCHING in t and "Project files ready" in t)
    assert term.stop() == 0
    (project / "service.py").write_text(SERVICE.replace("hello", "hi_there"))
    handle = ours(str(project), attach="cs-theirs", context="sbx")  # no loop here: one blocking sync
    assert handle.state.phase is Phase.READY, handle.state
    assert remote(client, "cs-theirs")["service.py"] == _md5(SERVICE.replace("hello", "hi_there"))
    url = client.get("/api/v2/deployments/cs-theirs").json()["urls"][0]
    assert [r["route"] for r in httpx.get(f"{url}/schema.json").json()["routes"]] == ["/hi_there"]
    handle.detach()


def test_one_of_ours_is_listed_and_attached_by_bentoml_code(sandbox: Sandbox, client: httpx.Client, project: Path,
                                                            terminals: list[Terminal],
                                                            ours: Callable[..., Any]) -> None:
    from bentocloud_jupyter.core.codespaces.state import Phase

    handle = ours(str(project), context="sbx")  # create: a bare build with bentoml, the dev create, one sync
    assert handle.state.phase is Phase.READY, handle.state
    name = handle.state.name
    handle.detach()
    listed = code(sandbox, project, terminals)
    listed.answer(name, b"\r")  # the first option: our codespace
    listed.read_until(lambda t: WATCHING in t)
    assert "Create a new codespace" in listed.text and listed.stop() == 0
    attached = code(sandbox, project, terminals, "--attach", name)
    attached.read_until(lambda t: WATCHING in t)
    extra = project / "more.py"
    synced(client, name, lambda f: "more.py" in f, lambda: extra.write_text("Y = 2\n"), lambda: attached.text[-3000:])
    assert attached.stop() == 0
