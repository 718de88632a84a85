"""Odd input ends in one UsageError line, no traceback, nothing sent; a token typed by mistake is never echoed,
and a verbose traceback never shows one (issue 16, findings 7 and 11)."""

from __future__ import annotations

import getpass

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import Cell

from bentocloud_jupyter.core.api import sandbox as local_sandbox
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.ipython import parsers
from bentocloud_jupyter.sandbox import Sandbox

LONG = "a" * 300
TYPED_TOKEN = "typed-by-mistake-0123456789"


def as_code(magic: str, line: str) -> str:
    """A cell calling the magic through Python, so that the line may hold a NUL byte."""
    return f"get_ipython().run_line_magic({magic!r}, {line!r})"


ODD_LINES = [
    ("deploy", f"{LONG} -n odd"),
    ("deploy", f"summarizer:{LONG} -n odd"),
    ("deploy", f"summarizer:v3:{LONG} -n odd --dry-run"),
    ("bentocloud", f"update odd --bento {LONG}"),
    ("deploy", "summarizer:v3 -n odd -f a\x00b"),
    ("deploy", "summarizer:v3 -n odd --config-file=a\x00b"),
    ("deploy", f"summarizer:v3 -n odd -f {LONG}/x.yaml"),
    ("deploy", "a\x00b -n odd"),
    ("bentocloud", "call odd summarize --file a\x00b"),
    ("bentocloud", "pull summarizer:v3 --output a\x00b"),
    ("bentocloud", "login --api-token \u00e9t\u00e9-token-0123456789"),
    ("bentocloud", "login --api-token 'two words-0123456789'"),
    ("bentocloud", "sandbox --port 99999"),
    ("bentocloud", "sandbox --port -1"),
    ("bentocloud", "sandbox --port eighty"),
    ("bentocloud", "sandbox --speed 0"),
    ("bentocloud", "sandbox --speed -2"),
    ("bentocloud", "sandbox --speed nan"),
    ("bentocloud", "sandbox --speed inf"),
    ("bentocloud", "sandbox --speed 1e999"),
]


def assert_one_line(run: object) -> str:
    error, stderr = run.error, run.stderr  # type: ignore[attr-defined]
    assert type(error) is UsageError, f"expected a UsageError, got {error!r}"
    assert "Traceback" not in stderr and "Traceback" not in run.stdout  # type: ignore[attr-defined]
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), stderr
    return str(lines[0])


@pytest.mark.parametrize(("magic", "line"), ODD_LINES)
def test_odd_input_is_one_line_and_sends_nothing(logged_in: Cell, sandbox: Sandbox, magic: str, line: str) -> None:
    sandbox.reset_stats()
    said = assert_one_line(logged_in(as_code(magic, line)))
    assert sandbox.stats()["total"] == 0, sandbox.stats()
    assert local_sandbox.running_sandbox() is None
    assert "\x00" not in said and LONG not in said


@pytest.mark.parametrize("line", [f"login {TYPED_TOKEN}", f"login --endpoint http://127.0.0.1:1 {TYPED_TOKEN}",
                                  f"login --timeout {TYPED_TOKEN}", f"login --api-tok={TYPED_TOKEN}"])
def test_a_token_typed_in_the_wrong_place_is_never_echoed(cell: Cell, line: str) -> None:
    said = assert_one_line(cell(f"%bentocloud {line}"))
    assert TYPED_TOKEN not in said and TYPED_TOKEN[-8:] not in said
    if "--timeout" not in line:
        assert "unexpected argument" in said and "--api-token" in said and "prompted" in said


def test_the_argument_types_refuse_without_quoting() -> None:
    import argparse

    for check, value in [(parsers.port_arg, "65536"), (parsers.speed_arg, "nan"), (parsers.path_arg, "a\x00b"),
                         (parsers.bento_arg, LONG), (parsers.token_arg, "\u00e9" * 12)]:
        with pytest.raises(argparse.ArgumentTypeError) as caught:
            check(value)
        assert value not in str(caught.value)
    assert parsers.port_arg("0") == 0 and parsers.speed_arg("2.5") == 2.5 and parsers.path_arg("a/b.yaml")
    assert parsers.token_arg("abc-DEF_123.xyz").reveal() == "abc-DEF_123.xyz"


@pytest.mark.parametrize(("port", "speed"), [(99999, 1.0), (-1, 1.0), (0, 0.0), (0, float("nan")),
                                             (0, float("inf")), (0, 1e9), (True, 1.0), ("80", 1.0)])
def test_the_sandbox_verb_refuses_odd_numbers(port: object, speed: object) -> None:
    with pytest.raises(InvalidInputError, match="sandbox"):
        local_sandbox.start_sandbox(port, speed)  # type: ignore[arg-type]
    assert local_sandbox.running_sandbox() is None


# ------------------------------------------------------------------------------- verbose tracebacks


def test_a_verbose_traceback_after_a_hidden_prompt_login_shows_no_token(
        cell: Cell, shell: InteractiveShell, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """Something unexpected breaks inside the HTTP library: every frame is shown with its variables."""
    import httpx

    secret = "hidden-prompt-token-0123456789abcdef"
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": f"  {secret}\n")

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the transport broke")

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", broken)
    shell.run_line_magic("xmode", "Verbose")
    shell.magics_manager.registry["BentoCloudMagics"].widgets = False
    try:
        run = cell(f"%bentocloud login --endpoint {sandbox.url} --context prompted")
        formatted = "\n".join(shell.InteractiveTB.structured_traceback(
            type(run.error), run.error, run.error.__traceback__))  # type: ignore[union-attr]
    finally:
        shell.run_line_magic("xmode", "Context")
    assert isinstance(run.error, RuntimeError)
    assert "Traceback" in run.stdout + run.stderr + formatted and "handle_request" in formatted
    for text in (run.stdout, run.stderr, formatted):
        assert secret not in text
        assert "****" + secret[-4:] in formatted


def test_a_verbose_traceback_of_a_line_token_is_redacted_too(cell: Cell, shell: InteractiveShell,
                                                             sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    secret = "line-token-for-verbose-0123456789"
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("broke")))
    shell.run_line_magic("xmode", "Verbose")
    try:
        run = cell(f"%bentocloud login --endpoint {sandbox.url} --api-token {secret}")
    finally:
        shell.run_line_magic("xmode", "Context")
    assert isinstance(run.error, RuntimeError)
    assert secret not in run.stdout + run.stderr


def test_unloading_puts_the_traceback_formatter_back(shell: InteractiveShell) -> None:
    assert getattr(shell.InteractiveTB.structured_traceback, "bentocloud_redacting", False)
    shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    assert "structured_traceback" not in vars(shell.InteractiveTB)
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    assert getattr(shell.InteractiveTB.structured_traceback, "bentocloud_redacting", False)


def test_a_port_in_use_is_one_line(cell: Cell) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        said = assert_one_line(cell(f"%bentocloud sandbox --port {port}"))
    assert "in use" in said and local_sandbox.running_sandbox() is None
