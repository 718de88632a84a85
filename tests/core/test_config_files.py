"""Bad and odd credentials files: each gives a clear ConfigError or a documented tolerant result, and
nothing we do changes its bytes (reading never writes; a file we cannot parse is never overwritten)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import ConfigError

GOOD_CONTEXT = "- api_token: t0ken-value-1234\n  email: null\n  endpoint: https://e.example\n  name: a\n"


def _big_file() -> bytes:
    entries = "".join(
        f"- api_token: token-{i:07d}-{'x' * 40}\n  email: u{i}@example.com\n"
        f"  endpoint: https://org{i}.cloud.bentoml.com\n  name: ctx{i}\n"
        for i in range(38_000))
    return ("contexts:\n" + entries + "current_context_name: ctx0\n").encode()


# name, file bytes, expected: ConfigError message fragment, or a check of the tolerant result
REJECTED: list[tuple[str, bytes, str]] = [
    ("malformed yaml", b"contexts: [\n  - name: a\n", "line"),
    ("tab indentation", b"contexts:\n\t- name: a\n", "not valid YAML"),
    ("list at top level", b"- a\n- b\n", "top level is a list"),
    ("string at top level", b"just some text\n", "top level is a string"),
    ("contexts null", b"contexts: null\ncurrent_context_name: default\n", "'contexts' is empty"),
    ("contexts a mapping", b"contexts: {a: 1}\n", "'contexts' is a mapping"),
    ("context without api_token", b"contexts:\n- name: a\n  endpoint: https://e\n", "has no api_token"),
    ("context without name", b"contexts:\n- api_token: t\n  endpoint: https://e\n", "has no name"),
    ("context is a string", b"contexts:\n- hello\n", "context #1 is a string"),
    ("token is a list", b"contexts:\n- name: a\n  endpoint: e\n  api_token: [1, 2]\n", "api_token is a list"),
    ("not utf-8", b"contexts: []\ncurrent_context_name: \xff\xfe\n", "not UTF-8"),
]


@pytest.mark.parametrize(("label", "content", "fragment"), REJECTED, ids=[r[0] for r in REJECTED])
def test_rejected_files_raise_and_stay_unchanged(label: str, content: bytes, fragment: str) -> None:
    path = _write(content)
    with pytest.raises(ConfigError) as info:
        config.load_config()
    message = str(info.value)
    assert fragment in message and str(path) in message
    with pytest.raises(ConfigError):
        config.save_context(Context("b", "https://x.example", "tok-new-5678"))
    with pytest.raises(ConfigError):
        config.set_current_context("a")
    assert path.read_bytes() == content


def test_yaml_error_carries_line_and_column() -> None:
    _write(b"contexts:\n- name: a\n  endpoint: [unclosed\n")
    with pytest.raises(ConfigError) as info:
        config.load_config()
    assert info.value.line is not None and info.value.column is not None
    assert f"line {info.value.line}" in str(info.value)


def _names(cfg: config.Config) -> list[str]:
    return cfg.names


TOLERATED: list[tuple[str, bytes, Callable[[config.Config], object]]] = [
    ("empty file", b"", lambda c: c.contexts == () and c.current_context_name == "default"),
    ("comments only", b"# nothing here\n\n", lambda c: c.contexts == ()),
    ("numeric token coerced", b"contexts:\n- name: a\n  endpoint: https://e\n  api_token: 12345\n",
     lambda c: c.contexts[0].api_token == "12345"),
    ("email missing", b"contexts:\n" + GOOD_CONTEXT.replace("  email: null\n", "").encode(),
     lambda c: c.contexts[0].email is None),
    ("duplicate names: first wins", b"contexts:\n" + GOOD_CONTEXT.encode()
     + GOOD_CONTEXT.replace("t0ken-value-1234", "second-token-999").encode(),
     lambda c: c.find("a").api_token == "t0ken-value-1234" and len(c.problems) == 1),  # type: ignore[union-attr]
    ("unicode names", "contexts:\n- name: équipe-日本\n  endpoint: https://e\n  api_token: tok-uni-1234\n"
     .encode(), lambda c: _names(c) == ["équipe-日本"]),
    ("utf-8 bom", b"\xef\xbb\xbfcontexts:\n" + GOOD_CONTEXT.encode(), lambda c: _names(c) == ["a"]),
    ("crlf line ends", ("contexts:\n" + GOOD_CONTEXT + "current_context_name: a\n").replace("\n", "\r\n")
     .encode(), lambda c: _names(c) == ["a"] and c.current_context_name == "a"),
    ("no contexts key", b"current_context_name: prod\n", lambda c: c.current_context_name == "prod"),
    ("unknown keys kept", b"contexts:\n" + GOOD_CONTEXT.encode() + b"  region: eu\nextra_top: 1\n",
     lambda c: c.extra == {"extra_top": 1} and c.contexts[0].extra == {"region": "eu"}),
    ("5 MB file", _big_file(), lambda c: len(c.contexts) == 38_000),
]


@pytest.mark.parametrize(("label", "content", "check"), TOLERATED, ids=[r[0] for r in TOLERATED])
def test_tolerated_files_read_without_changing_them(
        label: str, content: bytes, check: Callable[[config.Config], object]) -> None:
    path = _write(content)
    cfg = config.load_config()
    assert check(cfg)
    assert path.read_bytes() == content


def test_big_file_is_really_five_megabytes() -> None:
    assert len(_big_file()) > 5_000_000


def test_tolerated_file_is_rewritten_in_bentoml_format_keeping_contexts() -> None:
    path = _write(b"\xef\xbb\xbfcontexts:\r\n- name: a\r\n  endpoint: https://e\r\n  api_token: 12345\r\n")
    config.save_context(Context("b", "https://x.example", "tok-new-5678"))
    text = path.read_text()
    assert text.startswith("contexts:\n- api_token: '12345'\n") and "\r" not in text
    assert config.load_config().names == ["a", "b"]


def test_duplicate_name_save_replaces_the_first_as_bentoml_does() -> None:
    _write(b"contexts:\n" + GOOD_CONTEXT.encode() + GOOD_CONTEXT.replace("t0ken", "zzzzz").encode())
    config.save_context(Context("a", "https://new.example", "replacement-token"))
    cfg = config.load_config()
    assert [c.endpoint for c in cfg.contexts] == ["https://new.example", "https://e.example"]


def test_symlink_to_a_valid_file_is_read(tmp_path: Path) -> None:
    real = tmp_path / "elsewhere.yaml"
    real.write_bytes(b"contexts:\n" + GOOD_CONTEXT.encode())
    path = config.credentials_path()
    path.parent.mkdir(parents=True)
    path.symlink_to(real)
    assert config.load_config().names == ["a"]
    assert path.is_symlink()


def test_dangling_symlink_reads_as_missing(tmp_path: Path) -> None:
    path = config.credentials_path()
    path.parent.mkdir(parents=True)
    path.symlink_to(tmp_path / "gone.yaml")
    assert config.load_config().contexts == ()


def test_unreadable_file_gives_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(b"contexts:\n" + GOOD_CONTEXT.encode())
    if os.geteuid() != 0:
        path.chmod(0)
    else:  # root reads anything: simulate the permission error the OS would give a user
        def deny(self: Path) -> bytes:
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(ConfigError) as info:
        config.load_config()
    assert "Permission denied" in str(info.value) and "permissions" in str(info.value)


def test_folder_in_place_of_the_file() -> None:
    config.credentials_path().mkdir(parents=True)
    with pytest.raises(ConfigError) as info:
        config.load_config()
    assert "is a folder" in str(info.value)


def _write(content: bytes) -> Path:
    path = config.credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path
