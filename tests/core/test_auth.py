"""login(): validate first, then save; nothing is written when validation fails."""

from __future__ import annotations

import pytest

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import AuthenticationError, InsecureEndpointError, InvalidInputError
from bentocloud_jupyter.sandbox import Sandbox


def test_login_saves_under_the_current_name_like_bentoml(live: Sandbox) -> None:
    result = auth.login(live.url + "/", live.token)
    assert (result.context, result.endpoint, result.is_current) == ("default", live.url, True)
    saved = config.get_context("default")
    assert saved.api_token == live.token and saved.email == "you@sandbox.local" and saved.endpoint == live.url
    text = str(result)
    assert "sandbox-user" not in text or "Sandbox User" in text
    assert "'sandbox'" in text and live.token not in text + repr(result)


def test_login_into_a_named_context_does_not_switch_current(live: Sandbox) -> None:
    config.save_context(Context("prod", "https://cloud.bentoml.com", "prod-token-xyz"))
    config.set_current_context("prod")
    result = auth.login(live.url, live.token, context="sbx")
    assert result.context == "sbx" and not result.is_current
    assert "%bentocloud use sbx" in str(result)
    assert config.load_config().current_context_name == "prod"


def test_rejected_token_saves_nothing(live: Sandbox) -> None:
    config.save_context(Context("default", "https://cloud.bentoml.com", "old-working-token"))
    before = config.credentials_path().read_bytes()
    with pytest.raises(AuthenticationError) as info:
        auth.login(live.url, "wrong-token-123456")
    assert "wrong-token-123456" not in str(info.value)
    assert config.credentials_path().read_bytes() == before


def test_rejected_token_creates_no_file(live: Sandbox) -> None:
    with pytest.raises(AuthenticationError):
        auth.login(live.url, "wrong-token-123456")
    assert not config.credentials_path().exists()


def test_no_token_and_insecure_endpoint_are_refused() -> None:
    with pytest.raises(InvalidInputError):
        auth.login("https://cloud.example", "")
    with pytest.raises(InsecureEndpointError):
        auth.login("http://cloud.example", "some-token-1234")
    assert not config.credentials_path().exists()


def test_login_notes_an_env_override(live: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", "env-token-abcdef")
    result = auth.login(live.url, live.token, context="sbx")
    assert result.env_override and "BENTO_CLOUD_API_KEY" in str(result)
