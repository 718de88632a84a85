"""API tokens through the Python twins against the sandbox: the new token goes where asked, never into text."""

from __future__ import annotations

import logging
import stat
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.api.tokens import parse_expiry
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.results import html_of


def _token_writes(sandbox: Any) -> int:
    return sum(n for route, n in sandbox.stats()["by_route"].items()
               if route.startswith(("POST", "DELETE")) and "api_tokens" in route)


def _value_of(sandbox: Any, name: str) -> str:
    (rec,) = [t for t in sandbox.state.tokens.values() if t.name == name]
    return str(rec.token)


def test_save_as_validates_and_saves_a_context(sbx_context: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    made = bc.create_api_token("ci", scopes=["read_cluster", "write_cluster"], expires="30d", description="for CI",
                               save_as="ci-ctx")
    value = _value_of(sbx_context, "ci")
    assert made.token is None and "saved as context 'ci-ctx'" in repr(made)
    saved = config.get_context("ci-ctx")
    assert saved.api_token == value and saved.endpoint == sbx_context.url
    assert config.load_config().current_context_name == "sbx"  # saving does not switch
    assert bc.whoami(context="ci-ctx").user.name
    listing = bc.api_tokens()
    row = {t.name: t for t in listing.tokens}["ci"]
    assert row.scopes == ("read_cluster", "write_cluster") and row.description == "for CI"
    assert row.expired_at is not None and row.expired_at - datetime.now(timezone.utc) > timedelta(days=29)
    assert row.last_used_at is not None  # the validation used it
    got = bc.get_api_token("ci")  # by name; by uid too
    assert got.token.uid == row.uid and bc.get_api_token(row.uid).token.name == "ci"
    shown = "\n".join(repr(r) + html_of(r) for r in (made, listing, got)) + caplog.text
    shown += bc.api_tokens(output="json").text + bc.get_api_token("ci", output="yaml").text
    assert value not in shown and sbx_context.token not in shown
    assert "deleted" in repr(bc.delete_api_token("ci"))
    with httpx.Client(base_url=sbx_context.url, headers={"X-YATAI-API-TOKEN": value}) as revoked:
        assert revoked.get("/api/v1/auth/current").status_code == 401


def test_output_file_is_new_and_private(sbx_context: Any, tmp_path: Path) -> None:
    target = tmp_path / "token.txt"
    made = bc.create_api_token("to-file", output_file=str(target))
    value = _value_of(sbx_context, "to-file")
    assert target.read_text() == value + "\n" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert value not in repr(made) and str(target) in repr(made)
    before = _token_writes(sbx_context)
    with pytest.raises(InvalidInputError, match="exists"):
        bc.create_api_token("again", output_file=str(target))
    assert _token_writes(sbx_context) == before
    bc.delete_api_token("to-file")


def test_without_a_place_the_result_holds_it_masked(sbx_context: Any) -> None:
    made = bc.create_api_token("held")
    assert made.token is not None and made.token.reveal() == _value_of(sbx_context, "held")
    assert made.token.reveal() not in repr(made) + html_of(made) + repr(made.token)
    bc.delete_api_token("held")


def test_a_token_that_cannot_be_kept_is_revoked(sbx_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.api import accounts
    from bentocloud_jupyter.core.errors import AuthenticationError

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AuthenticationError("BentoCloud rejected the token.", status=401)

    monkeypatch.setattr(accounts, "login", refuse)
    with pytest.raises(InvalidInputError, match="revoked at once"):
        bc.create_api_token("lost", save_as="lost-ctx")
    assert "lost" not in {t.name for t in sbx_context.state.tokens.values()}


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"scopes": ["root"]}, "Unknown scope 'root'"),
    ({"expires": "soon"}, "not a duration"),
    ({"expires": "2001-01-01"}, "not in the future"),
    ({"expires": "-3d"}, "not a duration"),
    ({"save_as": "sbx"}, "the one in use"),
    ({"output_file": "/no/such/folder/t.txt"}, "No folder"),
])
def test_bad_input_is_one_line_and_sends_nothing(sbx_context: Any, kwargs: dict[str, Any], words: str) -> None:
    before = _token_writes(sbx_context)
    with pytest.raises(InvalidInputError) as caught:
        bc.create_api_token("bad", **kwargs)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert _token_writes(sbx_context) == before


def test_unknown_token_names_the_listing(sbx_context: Any) -> None:
    with pytest.raises(NotFoundError, match=r"No API token with uid or name 'ghost'.*api_tokens"):
        bc.delete_api_token("ghost")


def test_expiry_words() -> None:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    assert parse_expiry("30d", now) == now + timedelta(days=30)
    assert parse_expiry("1w", now) == now + timedelta(weeks=1)
    assert parse_expiry("24H", now) == now + timedelta(hours=24)
    assert parse_expiry("2031-06-01T12:00:00+00:00", now) == datetime(2031, 6, 1, 12, tzinfo=timezone.utc)
    local = parse_expiry("2031-06-01", now)
    assert local is not None and local.tzinfo is not None and local.replace(tzinfo=None) == datetime(2031, 6, 1)
    assert parse_expiry(None) is None and parse_expiry("") is None
