"""The credentials file: location, format, precedence, operations, permissions, masking."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context, ContextSource
from bentocloud_jupyter.core.errors import ConfigError, ContextNotFoundError, InvalidInputError

TOKEN_A = "tokA-7fq3exampleSECRETaaaa"
TOKEN_B = "tokB-otherSECRETvaluebbbb"


def ctx(name: str, token: str = TOKEN_A, endpoint: str = "https://cloud.bentoml.com",
        email: str | None = None) -> Context:
    return Context(name=name, endpoint=endpoint, api_token=token, email=email)


def test_location_follows_bentoml_home_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "one"))
    assert config.credentials_path() == tmp_path / "one" / ".yatai.yaml"
    monkeypatch.setenv("SOME_ROOT", str(tmp_path))
    monkeypatch.setenv("BENTOML_HOME", "$SOME_ROOT/two")
    assert config.credentials_path() == tmp_path / "two" / ".yatai.yaml"


def test_default_home_is_tilde_bentoml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BENTOML_HOME")
    assert config.bentoml_home() == tmp_path / "user-home" / "bentoml"


def test_reading_a_missing_file_creates_nothing(isolated_home: Path) -> None:
    cfg = config.load_config()
    assert cfg.contexts == () and cfg.current_context_name == "default"
    assert not isolated_home.exists()
    with pytest.raises(ContextNotFoundError):
        config.resolve_context()
    assert not isolated_home.exists()


def test_written_text_is_bentoml_format() -> None:
    config.save_context(ctx("default", TOKEN_A, email="alice@example.com"))
    config.save_context(ctx("staging", "12345", "https://acme.cloud.bentoml.com"))
    assert config.credentials_path().read_text() == (
        "contexts:\n"
        f"- api_token: {TOKEN_A}\n"
        "  email: alice@example.com\n"
        "  endpoint: https://cloud.bentoml.com\n"
        "  name: default\n"
        "- api_token: '12345'\n"
        "  email: null\n"
        "  endpoint: https://acme.cloud.bentoml.com\n"
        "  name: staging\n"
        "current_context_name: default\n"
    )


def test_empty_config_text() -> None:
    assert config.Config().to_yaml() == "contexts: []\ncurrent_context_name: default\n"


def test_save_replaces_in_place_and_appends_new() -> None:
    for name in ("a", "b", "c"):
        config.save_context(ctx(name))
    config.save_context(ctx("b", TOKEN_B))
    contexts = config.list_contexts()
    assert [c.name for c in contexts] == ["a", "b", "c"]
    assert contexts[1].api_token == TOKEN_B


def test_unknown_keys_survive_writes() -> None:
    path = config.credentials_path()
    path.parent.mkdir(parents=True)
    path.write_text(
        "contexts:\n- api_token: t0k3n-value-xyz\n  endpoint: https://e\n  name: a\n  region: eu\n"
        "current_context_name: a\ntheme: dark\n")
    config.save_context(ctx("b"))
    config.save_context(ctx("a", TOKEN_B))
    cfg = config.load_config()
    assert cfg.extra == {"theme": "dark"}
    assert cfg.find("a") is not None and cfg.find("a").extra == {"region": "eu"}  # type: ignore[union-attr]
    assert "theme: dark" in path.read_text() and "region: eu" in path.read_text()


def test_remove_rename_and_current() -> None:
    config.save_context(ctx("a"))
    config.save_context(ctx("b"))
    config.set_current_context("b")
    config.rename_context("b", "beta")
    assert config.load_config().current_context_name == "beta"
    config.remove_context("beta")
    cfg = config.load_config()
    assert cfg.names == ["a"] and cfg.current_context_name == "a"
    config.remove_context("a")
    cfg = config.load_config()
    assert cfg.names == [] and cfg.current_context_name == "default"


@pytest.mark.parametrize("call", [
    lambda: config.set_current_context("nope"),
    lambda: config.remove_context("nope"),
    lambda: config.rename_context("nope", "x"),
    lambda: config.get_context("nope"),
])
def test_unknown_names_are_refused_and_nothing_is_written(call: object) -> None:
    config.save_context(ctx("a"))
    before = config.credentials_path().read_bytes()
    with pytest.raises(ContextNotFoundError) as info:
        call()  # type: ignore[operator]
    assert "nope" in str(info.value) and "'a'" in str(info.value)
    assert config.credentials_path().read_bytes() == before


def test_env_context_cannot_be_persisted(monkeypatch: pytest.MonkeyPatch) -> None:
    config.save_context(ctx("a"))
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", TOKEN_B)
    with pytest.raises(InvalidInputError):
        config.set_current_context("__env__")
    with pytest.raises(InvalidInputError):
        config.save_context(ctx("__env__"))
    config.set_current_context("a")  # the file's context, not the env's
    assert config.load_config().current_context_name == "a"


def test_rename_onto_existing_name_is_refused() -> None:
    config.save_context(ctx("a"))
    config.save_context(ctx("b"))
    with pytest.raises(InvalidInputError):
        config.rename_context("a", "b")


class TestPrecedence:
    def setup_method(self) -> None:
        config.save_context(ctx("a", TOKEN_A))
        config.save_context(ctx("b", TOKEN_B))
        config.set_current_context("a")

    def test_current(self) -> None:
        resolved = config.resolve_context()
        assert resolved.context.name == "a" and resolved.source is ContextSource.CURRENT

    def test_argument_beats_env_context(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", "a")
        resolved = config.resolve_context("b")
        assert resolved.context.name == "b" and resolved.source is ContextSource.ARGUMENT

    def test_env_context_beats_current(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", "b")
        resolved = config.resolve_context()
        assert resolved.context.name == "b" and resolved.source is ContextSource.ENV_CONTEXT

    def test_empty_env_context_counts_as_unset(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", "")
        assert config.resolve_context().context.name == "a"

    def test_api_key_beats_everything_and_says_so(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("BENTO_CLOUD_API_KEY", "envtoken-SECRET-1234")
        monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", "https://acme.cloud.bentoml.com")
        resolved = config.resolve_context("b")
        assert resolved.context.name == "__env__"
        assert resolved.context.endpoint == "https://acme.cloud.bentoml.com"
        assert resolved.overridden
        assert "overrides the context 'b'" in resolved.description
        assert "SECRET" not in repr(resolved) + resolved.description

    def test_api_key_default_endpoint_and_no_file_needed(
            self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "empty"))
        monkeypatch.setenv("BENTO_CLOUD_API_KEY", "")
        resolved = config.resolve_context()
        assert resolved.context.endpoint == "https://cloud.bentoml.com" and not resolved.overridden
        assert not (tmp_path / "empty").exists()


def test_new_file_and_folder_permissions(isolated_home: Path) -> None:
    config.save_context(ctx("a"))
    assert stat.S_IMODE(os.stat(config.credentials_path()).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(isolated_home).st_mode) == 0o700


def test_existing_world_readable_file_is_tightened(isolated_home: Path) -> None:
    isolated_home.mkdir(mode=0o755)
    path = config.credentials_path()
    path.write_text("contexts: []\ncurrent_context_name: default\n")
    path.chmod(0o644)
    config.save_context(ctx("a"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(isolated_home).st_mode) == 0o755  # not ours to change


def test_no_leftover_temp_files(isolated_home: Path) -> None:
    for i in range(5):
        config.save_context(ctx(f"c{i}"))
    assert sorted(p.name for p in isolated_home.iterdir()) == [".yatai.yaml", ".yatai.yaml.lock"]


def test_stale_temp_file_of_a_killed_writer_is_cleaned(isolated_home: Path) -> None:
    isolated_home.mkdir()
    (isolated_home / ".yatai.yaml.abc123.tmp").write_text("partial")
    config.save_context(ctx("a"))
    assert not (isolated_home / ".yatai.yaml.abc123.tmp").exists()


def test_no_full_token_in_any_repr_or_error(monkeypatch: pytest.MonkeyPatch) -> None:
    config.save_context(ctx("a", TOKEN_A, email="x@y.z"))
    config.set_current_context("a")
    cfg = config.load_config()
    resolved = config.resolve_context()
    texts = [repr(cfg), str(cfg), repr(cfg.contexts[0]), str(cfg.contexts[0]), repr(resolved),
             resolved.description, f"{cfg.contexts[0].api_token}", str(cfg.contexts[0].api_token)]
    try:
        config.get_context(TOKEN_A)
    except ContextNotFoundError as exc:
        texts += [str(exc), repr(exc)]
    try:
        raise ConfigError(f"boom {TOKEN_A}")
    except ConfigError as exc:
        texts += [str(exc), repr(exc), str(exc.args)]
    for text in texts:
        assert TOKEN_A not in text
    assert "aaaa" in repr(cfg.contexts[0])  # last four characters only


def test_symlinked_file_is_written_through_the_link(isolated_home: Path, tmp_path: Path) -> None:
    real = tmp_path / "dotfiles" / "yatai.yaml"
    real.parent.mkdir()
    real.write_text("contexts: []\ncurrent_context_name: default\n")
    isolated_home.mkdir()
    config.credentials_path().symlink_to(real)
    config.save_context(ctx("a"))
    assert config.credentials_path().is_symlink()
    assert "name: a" in real.read_text()
