"""The same flags, ``--arg`` included, given to ``%deploy``/``%bentocloud update`` and to ``bentoml deploy``/
``bentoml deployment update`` produce the same request body at the sandbox.

A recording loopback proxy (http.server in a thread) sits in front of the sandbox and keeps every POST/PUT
body; bentoml's CLI runs for real in a subprocess against it, our magic in an IPython shell. Bento arguments
are never part of a deployment's body (bentoml hands them to the build of a project folder), so both send
the same body with and without them; and both read ``--arg``/``--arg-file`` into the same arguments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import make_sandbox_fixture

from bentocloud_jupyter.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
sandbox = make_sandbox_fixture(scope="module")


class Recorder:
    """A loopback proxy to the sandbox that records ``(method, path, query, json body)`` of every write."""

    def __init__(self, upstream: str) -> None:
        self.upstream, self.writes = upstream, []  # type: ignore[var-annotated]
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(size) if size else b""
                path, _, query = self.path.partition("?")
                if self.command in ("POST", "PUT") and path.startswith("/api/v2/deployments"):
                    recorder.writes.append((self.command, path, query, json.loads(body or b"null")))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = httpx.request(self.command, recorder.upstream + self.path, content=body, headers=headers)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def last(self) -> tuple[str, str, str, Any]:
        return self.writes[-1]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def recorder(sandbox: Sandbox) -> Iterator[Recorder]:
    proxy = Recorder(sandbox.url)
    yield proxy
    proxy.server.shutdown()


def _bentoml(recorder: Recorder, sandbox: Sandbox, *args: str) -> None:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=recorder.url,
               BENTOML_DO_NOT_TRACK="True")
    done = subprocess.run([sys.executable, "-m", "bentoml", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture()
def magic(recorder: Recorder, sandbox: Sandbox) -> Iterator[Any]:
    from IPython.core.interactiveshell import InteractiveShell

    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.tokens import Token

    config.save_context(config.Context("rec", recorder.url, Token(sandbox.token), None))
    config.set_current_context("rec")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bentocloud_jupyter")

    def run(line: str) -> None:
        outcome = shell.run_cell(line, store_history=False)
        assert outcome.error_in_exec is None and outcome.error_before_exec is None

    yield run
    shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.close_all()


FLAGS = ("--scaling-min 1 --scaling-max 2 --instance-type cpu.2 --env LOG_LEVEL=debug --label team=ml "
         "--strategy Recreate --access-authorization true")


def _without_name(body: dict[str, Any]) -> dict[str, Any]:
    """The body without its name, nor the labels we add on purpose (created-by, session, expiry: the ledger)."""
    out = {k: v for k, v in body.items() if k != "name"}
    if isinstance(out.get("labels"), list):
        out["labels"] = [item for item in out["labels"]
                         if not str(item.get("key", "")).startswith("bentocloud-jupyter/")]
    return out


def test_deploy_with_args_sends_what_bentoml_deploy_sends(recorder: Recorder, sandbox: Sandbox, magic: Any,
                                                          tmp_path: Path) -> None:
    arg_file = tmp_path / "args.yaml"
    arg_file.write_text("model: large\nbatch: 8\n", encoding="utf-8")
    args = f"--arg size=small --arg-file {arg_file}"
    _bentoml(recorder, sandbox, "deploy", "summarizer:v3", "-n", "theirs-args", *FLAGS.split(), *args.split(),
             "--no-wait")
    theirs = recorder.last()
    magic(f"%deploy summarizer:v3 -n ours-args {FLAGS} {args}")
    ours = recorder.last()
    assert (ours[0], ours[1], ours[2]) == (theirs[0], theirs[1], theirs[2]) == ("POST", "/api/v2/deployments",
                                                                               "cluster=")
    assert list(ours[3]) == list(theirs[3])  # the same keys in the same order
    assert _without_name(ours[3]) == _without_name(theirs[3])
    assert "small" not in json.dumps(ours[3]) and "large" not in json.dumps(ours[3])
    magic("%deploy summarizer:v3 -n ours-plain " + FLAGS)  # and --arg changed nothing in our body
    assert _without_name(recorder.last()[3]) == _without_name(ours[3])


def test_update_with_args_sends_what_bentoml_update_sends(recorder: Recorder, sandbox: Sandbox, magic: Any) -> None:
    for name in ("theirs-upd", "ours-upd"):
        magic(f"%deploy summarizer:v3 -n {name} {FLAGS} --wait --timeout 30")
    change = ["--scaling-max", "3", "--bento", "summarizer:v2", "--arg", "size=big"]
    _bentoml(recorder, sandbox, "deployment", "update", "theirs-upd", *change)
    theirs = recorder.last()
    magic("%bentocloud update ours-upd " + " ".join(change))
    ours = recorder.last()
    assert (ours[0], theirs[0]) == ("PUT", "PUT") and ours[2] == theirs[2]
    assert list(ours[3]) == list(theirs[3]) and ours[3] == theirs[3]


def _bentoml_reads(args: list[str], arg_file: str | None) -> dict[str, Any]:
    """The arguments bentoml's own --arg/--arg-file callbacks set (the --arg given first, as on a line)."""
    from bentoml._internal.configuration.containers import BentoMLContainer
    from bentoml_cli.utils import set_build_args, set_build_args_from_file

    BentoMLContainer.bento_arguments.set({})
    try:
        set_build_args(None, None, tuple(args))  # type: ignore[arg-type]
        if arg_file:
            set_build_args_from_file(None, None, arg_file)  # type: ignore[arg-type]
        return dict(BentoMLContainer.bento_arguments.get())
    finally:
        BentoMLContainer.bento_arguments.set({})


@pytest.mark.parametrize("args", [["a=1"], ["a=1", "b=two words"], ["a=1", "a=2"], ["url=http://x/?q=1"], ["e="]])
def test_arg_values_read_as_bentoml_reads_them(args: list[str], tmp_path: Path) -> None:
    from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args

    arg_file = tmp_path / "args.yaml"
    arg_file.write_text("a: from-file\nn: 3\nflag: true\n", encoding="utf-8")
    assert parse_bento_args(args) == _bentoml_reads(args, None)
    assert parse_bento_args(args, str(arg_file)) == _bentoml_reads(args, str(arg_file))


def test_comma_pairs_split_as_bentoml_documents_them() -> None:
    from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args

    # bentoml's help says key1=value1[,key2=value2...]; its code keeps "1,b=2" as one value. We follow the help,
    # and keep a comma that does not start a new KEY= pair.
    assert _bentoml_reads(["a=1,b=2"], None) == {"a": "1,b=2"}
    assert parse_bento_args(["a=1,b=2"]) == {"a": "1", "b": "2"}
    assert parse_bento_args(["models=x,y"]) == _bentoml_reads(["models=x,y"], None) == {"models": "x,y"}
