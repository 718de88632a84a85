"""Our credentials file and bentoml's are the same file: each reads what the other wrote, both pick
the same context for every combination of env vars and names, and we write the same bytes."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import ContextNotFoundError

SAMPLES = [
    Context("default", "https://cloud.bentoml.com", "7fq3exampleTOKENdefault", "alice@example.com"),
    Context("staging", "https://acme.cloud.bentoml.com/", "12345", None),
    Context("unicodé-名前", "http://127.0.0.1:8975", "tok: with colon # and hash", "bob@example.com"),
    Context("yes", "https://x.example", "true", "null"),
]


def _as_tuple(ctx: Any) -> tuple[str, str, str, str | None]:
    token = ctx.api_token.reveal() if isinstance(ctx.api_token, config.Token) else ctx.api_token
    return (ctx.name, ctx.endpoint, token, ctx.email)


def test_bentoml_reads_what_we_save(bentoml_config: Any) -> None:
    for ctx in SAMPLES:
        config.save_context(ctx)
    config.set_current_context("staging")
    theirs = bentoml_config.get_config()
    assert [_as_tuple(c) for c in theirs.contexts] == [_as_tuple(c) for c in SAMPLES]
    assert theirs.current_context_name == "staging"
    assert _as_tuple(theirs.get_context()) == _as_tuple(SAMPLES[1])
    assert _as_tuple(theirs.get_context("unicodé-名前")) == _as_tuple(SAMPLES[2])


def test_we_read_what_bentoml_saves(bentoml_config: Any) -> None:
    from bentoml._internal.cloud.config import CloudClientContext

    for ctx in SAMPLES:
        CloudClientContext(name=ctx.name, endpoint=ctx.endpoint, api_token=ctx.api_token.reveal(),
                           email=ctx.email).save()
    bentoml_config.get_config().set_current_context("yes")
    ours = config.load_config()
    assert [_as_tuple(c) for c in ours.contexts] == [_as_tuple(c) for c in SAMPLES]
    assert ours.current_context_name == "yes"


def test_we_write_the_same_bytes_as_bentoml(bentoml_config: Any) -> None:
    from bentoml._internal.cloud.config import CloudClientContext

    path = config.credentials_path()
    for ctx in SAMPLES:
        CloudClientContext(name=ctx.name, endpoint=ctx.endpoint, api_token=ctx.api_token.reveal(),
                           email=ctx.email).save()
    bentoml_config.get_config().set_current_context("staging")
    theirs = path.read_bytes()
    path.unlink()
    for ctx in SAMPLES:
        config.save_context(ctx)
    config.set_current_context("staging")
    assert path.read_bytes() == theirs


def test_a_file_bentoml_rewrote_keeps_working_after_our_write(bentoml_config: Any) -> None:
    config.save_context(SAMPLES[0])
    theirs = bentoml_config.get_config()
    theirs.to_yaml_file()
    config.save_context(SAMPLES[1])
    assert [c.name for c in bentoml_config.get_config().contexts] == ["default", "staging"]


UNSET = object()
COMBINATIONS = list(itertools.product(
    [UNSET, "env-key-SECRET-123"],            # BENTO_CLOUD_API_KEY
    [UNSET, "https://env.example"],            # BENTO_CLOUD_API_ENDPOINT
    [UNSET, "staging", "missing"],             # BENTOML_CLOUD_CONTEXT
    [None, "yes", "missing"],                  # explicit name
    ["default", "staging"],                    # current_context_name
))


@pytest.mark.parametrize(("api_key", "endpoint", "env_context", "explicit", "current"), COMBINATIONS)
def test_both_resolve_the_same_context(monkeypatch: pytest.MonkeyPatch, bentoml_config: Any, api_key: Any,
                                       endpoint: Any, env_context: Any, explicit: str | None,
                                       current: str) -> None:
    from bentoml.exceptions import CloudRESTApiClientError

    for ctx in SAMPLES:
        config.save_context(ctx)
    config.set_current_context(current)
    for var, value in (("BENTO_CLOUD_API_KEY", api_key), ("BENTO_CLOUD_API_ENDPOINT", endpoint),
                       ("BENTOML_CLOUD_CONTEXT", env_context)):
        if value is not UNSET:
            monkeypatch.setenv(var, value)
    # bentoml's CLI and SDK pass the explicit name, else BENTOML_CLOUD_CONTEXT, to get_context().
    requested = explicit if explicit is not None else (None if env_context is UNSET else env_context)
    try:
        theirs: Any = _as_tuple(bentoml_config.get_config().get_context(requested))
    except CloudRESTApiClientError:
        theirs = "not found"
    try:
        ours: Any = _as_tuple(config.resolve_context(explicit).context)
    except ContextNotFoundError:
        ours = "not found"
    assert ours == theirs
