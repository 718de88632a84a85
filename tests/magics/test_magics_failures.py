"""Bad input and every failure: one clear line (IPython's UsageError), no traceback, nothing written."""

from __future__ import annotations

import socket

import pytest
from IPython.core.error import UsageError
from magics_helpers import Cell

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.sandbox import Sandbox

NAMED = ["get {d}", "status {d}", "update {d} --scaling-max 2", "terminate {d}", "delete {d} --yes"]
ANY_CONTEXT = ["whoami", "deployments", "instance-types", "clusters", *NAMED]


def assert_one_clear_line(run: object, *fragments: str) -> None:
    error = run.error  # type: ignore[attr-defined]
    stderr = run.stderr  # type: ignore[attr-defined]
    assert type(error) is UsageError, f"expected a UsageError, got {error!r}"
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("UsageError: "), stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("line", ["%bentocloud frobnicate", "%bentocloud deployments --bogus",
                                  "%bentocloud get", "%bentocloud deployments -o xml",
                                  "%deploy summarizer --scaling-max many", "%deploy summarizer --strategy Sideways",
                                  "%bentocloud use", "%bentocloud status 'unclosed", "%deploy"])
def test_usage_errors(logged_in: Cell, line: str) -> None:
    assert_one_clear_line(logged_in(line))


@pytest.mark.parametrize("sub", ANY_CONTEXT)
def test_unknown_context(logged_in: Cell, sub: str) -> None:
    before = config.credentials_path().read_bytes()
    run = logged_in(f"%bentocloud {sub.format(d='x')} --context nowhere")
    assert_one_clear_line(run, "'nowhere'", "%bentocloud login")
    assert config.credentials_path().read_bytes() == before


@pytest.mark.parametrize("sub", NAMED)
def test_unknown_deployment(logged_in: Cell, sub: str) -> None:
    assert_one_clear_line(logged_in(f"%bentocloud {sub.format(d='ghost')}"), "'ghost'", "not found")


@pytest.mark.parametrize("sub", ANY_CONTEXT)
def test_rejected_token(logged_in: Cell, sandbox: Sandbox, sub: str) -> None:
    sandbox.faults.expire_tokens = True
    assert_one_clear_line(logged_in(f"%bentocloud {sub.format(d='x')}"), "rejected", "'sbx'", sandbox.url)


@pytest.mark.parametrize(("knob", "fragment"), [("fail_next", "503"), ("rate_limit_next", "Too many requests")])
@pytest.mark.parametrize("sub", ["whoami", "deployments", "instance-types", "clusters", "get x"])
def test_server_errors_and_rate_limits(logged_in: Cell, sandbox: Sandbox, sub: str, knob: str,
                                       fragment: str) -> None:
    setattr(sandbox.faults, knob, 50)
    sandbox.faults.retry_after = 0.01
    assert_one_clear_line(logged_in(f"%bentocloud {sub}"), fragment)


def test_conflict_and_validation(logged_in: Cell) -> None:
    logged_in("%deploy summarizer -n twice")
    assert_one_clear_line(logged_in("%deploy summarizer -n twice"), "Conflict")
    assert_one_clear_line(logged_in("%deploy summarizer -n bad-type --instance-type cpu.999"), "cpu.999")
    assert_one_clear_line(logged_in("%deploy nosuchbento -n x"), "nosuchbento", "not found")
    assert_one_clear_line(logged_in("%deploy summarizer -n Bad_Name"), "Bad_Name")


@pytest.mark.parametrize("sub", ANY_CONTEXT)
def test_unreachable_endpoint(cell: Cell, sub: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config.save_context(config.Context("dead", f"http://127.0.0.1:{port}", "dead-token-123456"))
    config.set_current_context("dead")
    assert_one_clear_line(cell(f"%bentocloud {sub.format(d='x')}"), "Cannot connect", f"127.0.0.1:{port}")


def test_plain_http_remote_endpoint_is_refused(cell: Cell) -> None:
    config.save_context(config.Context("plain", "http://cloud.example", "plain-token-123456"))
    config.set_current_context("plain")
    assert_one_clear_line(cell("%bentocloud whoami"), "plain http", "cloud.example")
    assert_one_clear_line(cell("%bentocloud login --endpoint http://cloud.example --api-token abcdefgh"),
                          "plain http")


@pytest.mark.parametrize("sub", ["contexts", "use x", "logout", "whoami", "deployments", "sandbox --stop"])
def test_broken_credentials_file(cell: Cell, sub: str) -> None:
    path = config.credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text("contexts: [\n")
    assert_one_clear_line(cell(f"%bentocloud {sub}"), "not valid YAML", str(path))
    assert path.read_text() == "contexts: [\n"


def test_no_contexts_at_all(cell: Cell) -> None:
    assert_one_clear_line(cell("%bentocloud deployments"), "'default'", "%bentocloud login")
    assert "No contexts" in cell("%bentocloud contexts").text
