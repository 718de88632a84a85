"""The context banner: one line before every change, nothing before a read, red when protected, off by config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from protect_helpers import Shell

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.ipython import banner
from bentocloud_jupyter.ipython.parsers import SUBCOMMANDS
from bentocloud_jupyter.sandbox import Sandbox

CHANGING = ["%bentocloud terminate no-such-one", "%bentocloud delete no-such-one --yes",
            "%bentocloud update no-such-one --scaling-max 2", "%bentocloud secret delete no-such-secret",
            "%bentocloud api-token delete no-such-token", "%deploy summarizer:v3 -n banner-one --scaling-max 1"]
READING = ["%bentocloud deployments", "%bentocloud get no-such-one", "%bentocloud secrets",
           "%bentocloud secret list", "%bentocloud api-token list", "%bentocloud contexts", "%bentocloud whoami",
           "%deploy summarizer:v3 -n banner-dry --dry-run", "%bentocloud clusters"]


@pytest.fixture()
def kernel_like(monkeypatch: pytest.MonkeyPatch) -> None:
    """The banner as a kernel shows it: display data (the rest of the front end is unchanged)."""
    monkeypatch.setattr(banner, "in_kernel", lambda: True)


@pytest.fixture()
def banner_off(cell: Shell) -> Iterator[Shell]:
    cell("%config BentoCloudMagics.banner = False")
    yield cell
    cell("%config BentoCloudMagics.banner = True")


def _line(ran: object) -> list[str]:
    return [line for line in getattr(ran, "stdout", "").splitlines() if line.startswith("BentoCloud →")]


@pytest.mark.parametrize("source", CHANGING)
def test_a_change_starts_with_one_line(cell: Shell, source: str) -> None:
    (line,) = _line(cell(source))
    assert line == "BentoCloud → context 'sbx' · at 127.0.0.1"


@pytest.mark.parametrize("source", READING)
def test_a_read_shows_nothing(cell: Shell, source: str) -> None:
    assert _line(cell(source)) == []


def test_protected_is_said_and_red_in_html(cell: Shell, kernel_like: None) -> None:
    bc.protect("sbx")
    ran = cell("%bentocloud terminate no-such-one")
    (shown,) = [d for d in ran.displayed if "BentoCloud →" in str(d.get("text/plain"))]
    assert shown["text/plain"] == "BentoCloud → PROTECTED context 'sbx' · at 127.0.0.1"
    assert "#cf222e" in shown["text/html"] and "PROTECTED context &#x27;sbx&#x27;" in shown["text/html"]
    assert _line(ran) == []
    bc.unprotect("sbx")
    calm = cell("%bentocloud terminate no-such-one").displayed
    assert not any("#cf222e" in str(d.get("text/html")) for d in calm)


def test_organization_named_once_known(cell: Shell) -> None:
    cell("%bentocloud whoami")
    (line,) = _line(cell("%bentocloud terminate no-such-one"))
    assert line.startswith("BentoCloud → context 'sbx' · organization '") and "127.0.0.1" not in line


def test_env_override_is_said(cell: Shell, sbx_context: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", sbx_context.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", sbx_context.url)
    (line,) = _line(cell("%bentocloud terminate no-such-one"))
    assert "BENTO_CLOUD_API_KEY (overrides the file)" in line
    (asked,) = _line(cell("%bentocloud terminate no-such-one --context sbx"))
    assert "context 'sbx' is ignored" in asked


def test_banner_off(banner_off: Shell, kernel_like: None) -> None:
    ran = banner_off("%bentocloud terminate no-such-one")
    assert _line(ran) == [] and not any("BentoCloud →" in str(d) for d in ran.displayed)


def test_no_request_and_cheap(sbx_context: Sandbox) -> None:
    sbx_context.reset_stats()
    bundle = banner.banner_bundle("sbx")
    assert bundle is not None and sbx_context.stats()["total"] == 0


def test_everything_is_escaped() -> None:
    config.save_context(config.Context("<img src=x onerror=alert(1)>", "http://127.0.0.1:9", Token("t-escape-1")))
    bundle = banner.banner_bundle("<img src=x onerror=alert(1)>")
    assert bundle is not None and "<img" not in bundle["text/html"] and "&lt;img" in bundle["text/html"]


def test_a_bad_file_makes_the_banner_silent(cell: Shell) -> None:
    config.credentials_path().write_text("contexts: [unclosed\n", encoding="utf-8")
    assert banner.banner_bundle(None) is None
    ran = cell("%bentocloud terminate no-such-one")
    assert _line(ran) == [] and ran.error is not None and "Traceback" not in ran.stderr
    assert banner.banner_bundle("no-such-context") is None


def test_which_commands_change_something() -> None:
    secret, token = SUBCOMMANDS["secret"], SUBCOMMANDS["api-token"]
    assert banner.changes_something(secret, {"action": "create"}) and banner.changes_something(secret,
                                                                                              {"action": "apply"})
    assert not banner.changes_something(secret, {"action": "list"})
    assert banner.changes_something(token, {"action": "create"}) and not banner.changes_something(token,
                                                                                                 {"action": "get"})
    for read in ("deployments", "get", "status", "logs", "contexts", "protect", "unprotect"):
        assert not banner.changes_something(SUBCOMMANDS[read], {}), read
    for change in ("terminate", "update", "delete", "start", "apply", "push"):
        assert banner.changes_something(SUBCOMMANDS[change], {}), change
    assert not banner.changes_something(SUBCOMMANDS["apply"], {"dry_run": True})
    assert banner.changes_something(SUBCOMMANDS["code"], {"list": False})
    assert not banner.changes_something(SUBCOMMANDS["code"], {"list": True})
    assert banner.changes_something(SUBCOMMANDS["teardown"], {"yes": True})
