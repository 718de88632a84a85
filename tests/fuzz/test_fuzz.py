"""The bounded fuzz of issue 16 ("Survive a hostile world"): no traceback and no hang, whatever comes in.

(a) Random and malformed lines for every ``%bentocloud`` subcommand and ``%deploy``, run as cells in an
    IPython shell with the extension loaded, against a sandbox: each cell ends in a clean result or our
    one ``UsageError`` line, within a time budget.
(b) Malformed answers (random JSON shapes, wrong types, deep nesting, huge numbers, NaN, truncated
    bodies, wrong content types, odd status codes and headers, dropped connections) to every method of
    ``BentoCloudClient`` and ``AsyncBentoCloudClient`` through ``httpx.MockTransport``, and to the
    presigned storage calls through a hostile loopback server: each call ends in a result or one of our
    ``BentoCloudError`` subclasses, within a time budget.

Seeded (``BCJ_FUZZ_SEED`` picks another run) and bounded: the whole module takes well under a minute.
Inputs that still crash because of a finding someone else is fixing are listed in :data:`KNOWN`: the
random runs skip them, and each is pinned in :data:`FOUND` as an ``xfail(strict=False)`` case naming
its finding. ``BCJ_FUZZ_SCALE=3`` runs three times as many cases, ``BCJ_FUZZ_VERBOSE=1`` prints each line.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import math
import os
import random
import re
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fuzz_answers import Endless, HostileTransport, answer
from fuzz_lines import describe, files, garbage, good_values, line
from fuzz_support import SEED, Hang, log_in, within
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from support import create, raw_client

from bentocloud_jupyter.core.artifacts.progress import format_bytes
from bentocloud_jupyter.core.defaults import LOGIN_TIMEOUT
from bentocloud_jupyter.core.display import format_time
from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.results import DeploymentsView, DeploymentView, html_of
from bentocloud_jupyter.ipython.parsers import DEPLOY_PARSER, SUBCOMMANDS

SCALE = float(os.environ.get("BCJ_FUZZ_SCALE", "1"))  # more cases per test for a deeper local run
LINES_PER_COMMAND = int(60 * SCALE)
CELL_BUDGET = 8.0
COMMAND_BUDGET = 3.0 * SCALE  # seconds of lines per subcommand: the run stops early rather than overrun CI
ANSWERS_PER_METHOD = int(60 * SCALE)
CALL_BUDGET = 3.0
METHOD_BUDGET = 1.5 * SCALE
TOKEN = "fuzz-token-0123456789abcdef"
TINY_RETRY = RetryPolicy(max_attempts=3, backoff=0.001, max_backoff=0.002, max_total=0.05)
VERBOSE = bool(os.environ.get("BCJ_FUZZ_VERBOSE"))  # print every fuzzed line, its time and its outcome
COMMANDS = {f"%bentocloud {name}": entry.parser for name, entry in SUBCOMMANDS.items()} | {"%deploy": DEPLOY_PARSER}

F6 = "finding 6 (durations from the user are checked and bounded)"
F11 = "finding 11 (odd magic input gives one line)"


def browser_login_timeout(source: str) -> bool:
    return " login" in source and "--browser" in source and bool(
        re.search(r"--timeout[= ]'?(-?inf|-?1e999|nan|-\d)", source, re.IGNORECASE))


# Crashes this fuzz found in files of other findings: (finding, what breaks and where, which lines).
# The random runs skip those lines; FOUND pins them as xfail(strict=False) until the finding is fixed.
KNOWN: list[tuple[str, str, Callable[[str], bool]]] = []  # all fixed: the lines below are plain cases now
NOTES: list[str] = []  # what each clean cell ended in (for BCJ_FUZZ_VERBOSE)


def pinned(finding: str, *lines: str) -> list[Any]:
    return [pytest.param(text, id=f"{finding}: {text[:60]}") for text in lines]


FOUND = [
    *pinned(F6, "%bentocloud login --browser --timeout inf --endpoint {url}",
            "%bentocloud login --browser --timeout=-1e999 --endpoint {url}",
            "%bentocloud login --browser --timeout nan --endpoint {url}"),
    *pinned(F11, "%bentocloud login --insecure --endpoint 'http://[::1' --api-token=x",
            "%bentocloud login --browser --timeout 0 --endpoint 'http://[::1'"),
]
# Inputs the issue names for findings 6 and 11 that crashed on the commit before those fixes (checked
# with this test): kept as plain cases, so they can never crash again.
NAMED_BY_THE_ISSUE = [
    *pinned(F6, "%bentocloud login --timeout nan --api-token x --endpoint {url}",
            "%bentocloud login --timeout -1 --api-token x --endpoint {url}"),
    *pinned(F11, "%deploy " + "s" * 300, "%deploy summarizer:" + "v" * 256, "%deploy summarizer:v3 -f 'a\x00b'",
            "%bentocloud call fz-one summarize --file 'a\x00b'",
            "%bentocloud login --api-token 'tökén' --endpoint {url}", "%bentocloud sandbox --port 99999",
            "%bentocloud sandbox --port -1", "%bentocloud sandbox --speed 0"),
]


# ------------------------------------------------------------------------------------------ (a) lines


def where(error: BaseException) -> str:
    """The innermost frame of ours in ``error``'s traceback (file:line in function)."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if "bentocloud_jupyter" in f.filename]
    frame = (frames or traceback.extract_tb(error.__traceback__) or [None])[-1]
    if frame is None:
        return "?"
    return f"{frame.filename.split('bentocloud_jupyter/')[-1]}:{frame.lineno} in {frame.name}"


def judge_cell(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], source: str, secret: str) -> str | None:
    """None when the cell ended in a clean result or one UsageError line; else what went wrong."""
    shell.display_pub = CapturingDisplayPublisher()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcome = within(CELL_BUDGET, lambda: shell.run_cell(source, store_history=False))
            if outcome.result is not None:
                within(CELL_BUDGET, lambda: shell.display_formatter.format(outcome.result))
    except Hang:
        return f"hang: no answer within {CELL_BUDGET:g} s"
    out, err = capsys.readouterr()
    error = outcome.error_in_exec or outcome.error_before_exec
    if isinstance(error, Hang):
        return f"hang: no answer within {CELL_BUDGET:g} s (at {where(error)})"
    if error is not None and type(error) is not UsageError:
        return f"{type(error).__name__}: {describe(str(error))} at {where(error)}"
    if "Traceback" in out + err:
        return "a traceback was printed: " + describe((out + err)[-600:])
    if "cannot display" in out + err + repr(shell.display_pub.outputs):
        return "a result's display broke (safe_repr hid an exception): " + describe(out[-300:])
    if error is not None:
        lines = [text for text in err.splitlines() if text.strip()]
        if len(lines) != 1 or not lines[0].startswith("UsageError: "):
            return f"UsageError of {len(lines)} lines: {describe(err)}"
    if secret in out + err + repr(shell.display_pub.outputs):
        return "the token was shown"
    NOTES.append(err.strip()[:100] if error is not None else type(outcome.result).__name__)
    return None


@pytest.fixture()
def deployed(sandbox: Any) -> str:
    """One deployment for the named subcommands to find, made again if a line deleted it (409 when it exists)."""
    with raw_client(sandbox) as http:
        create(http, name="fz-one", bento="summarizer:v3")
    return "fz-one"


def known(source: str) -> str | None:
    return next((finding for finding, _, matches in KNOWN if matches(source)), None)


def waits_for_a_human(source: str) -> bool:
    """``login --browser`` waits, by design, until someone approves the token in a browser (up to 10x
    ``--timeout``): such a line runs only with a short timeout, or an odd one (that must be refused)."""
    if " login" not in source or "--browser" not in source:
        return False
    match = re.search(r"--timeout[= ]'?([^ ']*)", source)
    try:
        timeout = float(match.group(1)) if match else LOGIN_TIMEOUT
    except ValueError:
        return False
    return math.isfinite(timeout) and timeout * 10 > CELL_BUDGET / 4


@pytest.mark.parametrize("prefix", list(COMMANDS))
def test_random_lines(prefix: str, fuzz_shell: InteractiveShell, sandbox: Any, deployed: str, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(f"{SEED}:{prefix}")
    paths, good = files(tmp_path / "files"), good_values(sandbox.url, deployed)
    failures, deadline = [], time.monotonic() + COMMAND_BUDGET
    for index in range(LINES_PER_COMMAND):
        if time.monotonic() > deadline:
            break
        source = f"{prefix} {garbage(rng)}" if index % 7 == 6 else line(rng, prefix, COMMANDS[prefix], paths, good)
        if known(source) or waits_for_a_human(source):
            continue
        log_in(sandbox)
        started = time.monotonic()
        problem = judge_cell(fuzz_shell, capsys, source, sandbox.token)
        if VERBOSE:
            with capsys.disabled():
                print(f"{time.monotonic() - started:6.2f}s {describe(source)} -> {problem or NOTES[-1]}")
        if problem:
            failures.append(f"{describe(source)}\n    -> {problem}")
    assert not failures, f"seed {SEED}, {len(failures)} bad cells:\n" + "\n".join(failures)


@pytest.mark.parametrize("source", FOUND + NAMED_BY_THE_ISSUE)
def test_pinned_lines(source: str, fuzz_shell: InteractiveShell, sandbox: Any, deployed: str,
                      capsys: pytest.CaptureFixture[str]) -> None:
    """Lines the fuzz found crashing, and the issue's own odd inputs: each ends in one clean line now."""
    log_in(sandbox)
    assert judge_cell(fuzz_shell, capsys, source.format(url=sandbox.url), sandbox.token) is None


# ---------------------------------------------------------------------------------------- (b) answers


ARGS: dict[str, Any] = {
    "body": {"bento": "s:v1", "name": "d"}, "cluster": None, "name": "x", "version": "v1", "kind": "bento",
    "action": "start_upload", "code": "abc", "search": None, "start": 0, "count": 100, "all": None, "q": None,
    "page_size": 100, "path": "/api/v1/bento_repositories/x/bentos/v1/upload", "chunks": [b"abc"], "size": 3,
    "path_or_url": "/api/v1/bento_repositories/x/bentos/v1/download", "url": "http://127.0.0.1:9/u",
    "presigned": False, "files": [{"path": "service.py", "b64_encoded_content": ""}], "paths": ["old.py"],
}
NOT_CALLS = {"close", "for_context", "from_context", "send", "reload_credentials"}
STORAGE = {"storage_put", "download_presigned"}


def client_methods(client: Any) -> list[str]:
    """Every public method of a client instance that talks to BentoCloud."""
    return sorted(n for n in dir(client) if not n.startswith("_") and n not in NOT_CALLS
                  and callable(getattr(client, n)) and not inspect.isclass(getattr(client, n)))


def arguments(method: Callable[..., Any]) -> dict[str, Any]:
    """Plausible arguments by parameter name (a new parameter fails here, so it gets a value)."""
    params = inspect.signature(method).parameters
    missing = [p for p in params if p not in ARGS and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    assert not missing, f"give the fuzz a value for {missing} of {method.__name__}"
    return {p: ARGS[p] for p in params if p in ARGS and params[p].kind is not inspect.Parameter.KEYWORD_ONLY}


def consume(result: Any) -> Any:
    """What a caller does with a result: iterate it, sort and format its times and sizes, show it as a card."""
    if inspect.isgenerator(result) or isinstance(result, Iterator):
        result = list(result)
    items = getattr(result, "items", result)
    for item in items if isinstance(items, list) else [result]:
        shown = [format_time(value) for value in vars(item).values() if isinstance(value, datetime)] \
            if dataclasses.is_dataclass(item) else []
        shown += [format_bytes(getattr(item, "size_bytes", None) or 0)]
        if isinstance(item, Deployment):
            shown += [repr(DeploymentView(item)), html_of(DeploymentsView([item]))]
        assert not any("cannot display" in text for text in shown), "a result's display broke"
    repr(result)
    return result


def judge_call(run: Callable[[], Any]) -> str | None:
    """None when ``run()`` gave a result or one of our errors (one line); else what went wrong."""
    try:
        within(CALL_BUDGET, lambda: consume(run()))
    except BentoCloudError as error:
        text = str(error)
        if TOKEN in text:
            return "the token is in the message"
        return None if text.strip() else "an empty message"
    except Hang:
        return f"hang: no result within {CALL_BUDGET:g} s"
    except Endless as endless:
        return f"unbounded: {endless}"
    except Exception as error:
        return f"{type(error).__name__}: {describe(str(error))} at {where(error)}"
    return None


def blocking_call(client: BentoCloudClient, method: str) -> Callable[[], Any]:
    if method == "download":
        def download() -> bytes:
            with client.download(ARGS["path_or_url"]) as response:
                return response.read()
        return download
    function = getattr(client, method)
    return lambda: function(**arguments(function))


def test_every_client_method_is_fuzzed() -> None:
    with BentoCloudClient("https://cloud.example", TOKEN) as client:
        assert len(client_methods(client)) >= 30
        for method in client_methods(client):
            arguments(getattr(client, method))


def blocking_methods() -> list[str]:
    with BentoCloudClient("https://cloud.example", TOKEN) as client:
        return [m for m in client_methods(client) if m not in STORAGE]


@pytest.mark.parametrize("method", blocking_methods())
def test_hostile_answers(method: str) -> None:
    rng = random.Random(f"{SEED}:{method}")
    hostile = HostileTransport(rng)
    failures = []
    with BentoCloudClient("https://cloud.example", TOKEN, transport=httpx.MockTransport(hostile),
                          retry=TINY_RETRY, timeout=2.0) as client:
        deadline = time.monotonic() + METHOD_BUDGET
        for index in range(ANSWERS_PER_METHOD):
            if time.monotonic() > deadline:
                break
            hostile.start_call()
            problem = judge_call(blocking_call(client, method))
            if problem:
                failures.append(f"answer #{index}\n    -> {problem}")
    assert not failures, f"seed {SEED}, {method}: {len(failures)} bad answers:\n" + "\n".join(failures)


def async_methods() -> list[str]:
    client = AsyncBentoCloudClient("https://cloud.example", TOKEN)
    return [m for m in client_methods(client) if m not in NOT_CALLS | {"aclose"}]


@pytest.mark.parametrize("method", async_methods())
def test_hostile_answers_async(method: str) -> None:
    rng = random.Random(f"{SEED}:async:{method}")
    hostile = HostileTransport(rng)
    failures = []

    async def call() -> Any:
        async with AsyncBentoCloudClient("https://cloud.example", TOKEN, transport=httpx.MockTransport(hostile),
                                         retry=TINY_RETRY, timeout=2.0) as client:
            function = getattr(client, method)
            result = function(**arguments(function))
            if inspect.isasyncgen(result):
                return [item async for item in result]
            return await result

    for index in range(ANSWERS_PER_METHOD // 4):
        hostile.start_call()
        problem = judge_call(lambda: asyncio.run(call()))
        if problem:
            failures.append(f"answer #{index}\n    -> {problem}")
    assert not failures, f"seed {SEED}, async {method}: {len(failures)} bad answers:\n" + "\n".join(failures)


# ------------------------------------------------------------ (b) presigned storage, a hostile loopback


class StorageHandler(BaseHTTPRequestHandler):
    """Answers every GET/PUT with the next hostile answer of the server's random source."""

    rng: random.Random

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def reply(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        chosen = answer(self.rng, self.path)
        if isinstance(chosen, httpx.HTTPError):
            self.close_connection = True
            return  # hang up without an answer
        self.send_response_only(chosen.status_code)
        for key, value in chosen.headers.raw:
            if key.lower() not in (b"content-length", b"transfer-encoding"):
                self.send_header(key.decode("latin-1"), value.decode("latin-1"))
        self.send_header("content-length", str(len(chosen.content)))
        self.end_headers()
        self.wfile.write(chosen.content)

    do_GET = do_PUT = reply


@pytest.fixture()
def storage() -> Iterator[str]:
    handler = type("Handler", (StorageHandler,), {"rng": random.Random(f"{SEED}:storage")})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_hostile_storage(storage: str) -> None:
    failures = []
    with BentoCloudClient("https://cloud.example", TOKEN, retry=TINY_RETRY, timeout=2.0) as client:
        def put() -> str:
            return client.storage_put(f"{storage}/bucket/key?X-Amz-Signature=sig", [b"abc"], 3)

        def get() -> bytes:
            with client.download(f"{storage}/bucket/key?X-Amz-Signature=sig", presigned=True) as response:
                return response.read()

        for index in range(ANSWERS_PER_METHOD):
            problem = judge_call(put if index % 2 else get)
            if problem:
                failures.append(f"answer #{index} ({'put' if index % 2 else 'get'})\n    -> {problem}")
    assert not failures, f"seed {SEED}, storage: {len(failures)} bad answers:\n" + "\n".join(failures)
