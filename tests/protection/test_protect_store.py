"""The protected-contexts store and the protect/unprotect verbs, without a server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
import yaml

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.protected import is_protected, protected_path, set_protected
from bentocloud_jupyter.core.credentials.resolve import resolve_context
from bentocloud_jupyter.core.errors import ConfigError, ContextNotFoundError, InvalidInputError
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded, require_typed_name
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.core.tokens import Token

TOKEN = "store-test-token-never-shown"


@pytest.fixture()
def saved() -> None:
    """Two saved contexts, ``prod`` current."""
    config.save_context(config.Context("staging", "http://127.0.0.1:9", Token(TOKEN), "s@example.com"))
    config.save_context(config.Context("prod", "http://127.0.0.1:9", Token(TOKEN), "p@example.com"))
    config.set_current_context("prod")


def test_protect_then_unprotect(saved: None) -> None:
    said = bc.protect("prod")
    assert "'prod' is protected" in str(said) and is_protected("prod") and not is_protected("staging")
    assert "already protected" in str(bc.protect("prod"))
    assert "no longer protected" in str(bc.unprotect("prod")) and not is_protected("prod")
    assert "was not protected" in str(bc.unprotect("prod"))


def test_protect_an_unknown_context_is_one_line_and_writes_nothing(saved: None) -> None:
    with pytest.raises(ContextNotFoundError) as caught:
        bc.protect("nope")
    assert "Nothing was written" in str(caught.value) and "'prod'" in str(caught.value)
    assert "\n" not in str(caught.value) and not protected_path().exists()
    for bad in ("", "  ", "__env__"):
        with pytest.raises(InvalidInputError):
            bc.protect(bad)
    assert not protected_path().exists()


def test_file_and_folder_are_private(saved: None) -> None:
    folder = protected_path().parent
    folder.mkdir(mode=0o755, parents=True)
    folder.chmod(0o755)
    bc.protect("prod")
    assert stat.S_IMODE(protected_path().stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_unknown_keys_survive_and_order_is_kept(saved: None) -> None:
    path = protected_path()
    path.parent.mkdir(parents=True)
    path.write_text("note: kept by a later version\nprotected_contexts: [staging]\n", encoding="utf-8")
    bc.protect("prod")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert document == {"note": "kept by a later version", "protected_contexts": ["staging", "prod"]}


@pytest.mark.parametrize("garbled", [b"protected_contexts: [prod\n", b"- just a list\n", b"protected_contexts: prod\n",
                                     b"protected_contexts: [1, 2]\n", b"\xff\xfe not utf-8", b"[unclosed"])
def test_a_garbled_file_is_never_overwritten(saved: None, garbled: bytes) -> None:
    path = protected_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(garbled)
    for change in (lambda: bc.protect("prod"), lambda: bc.unprotect("prod"), lambda: set_protected("x", True)):
        with pytest.raises(ConfigError) as caught:
            change()
        assert "fix or remove it" in str(caught.value) and "Traceback" not in str(caught.value)
    assert path.read_bytes() == garbled
    view = bc.contexts()  # the contexts still list, with the problem said once
    assert "prod" in repr(view) and any("fix or remove it" in p for p in view.problems)


def test_an_unreadable_file_is_an_error_not_unprotected(saved: None) -> None:
    path = protected_path()
    path.parent.mkdir(parents=True)
    path.mkdir()  # a folder where the file should be
    with pytest.raises(ConfigError):
        is_protected("prod")
    with pytest.raises(ConfigError):
        require_typed_name(resolve_context(), "deployment", "web", None)  # refused, not waved through


def test_contexts_view_marks_protected_ones(saved: None) -> None:
    bc.protect("prod")
    view = bc.contexts()
    text, html = repr(view), html_of(view)
    assert "prod (protected)" in text and "staging (protected)" not in text
    assert "prod (protected)" in html and TOKEN not in text + html


def test_protection_survives_rewrites_of_the_credentials_file(saved: None) -> None:
    bc.protect("prod")
    config.save_context(config.Context("other", "http://127.0.0.1:9", Token(TOKEN)))
    config.remove_context("staging")
    assert is_protected("prod")
    assert "protected" not in config.credentials_path().read_text(encoding="utf-8")


def test_typed_name_check(saved: None, monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = resolve_context()
    require_typed_name(resolved, "deployment", "web", None)  # not protected: nothing asked
    with pytest.raises(ConfirmationNeeded) as wrong:  # a wrong name is refused anywhere
        require_typed_name(resolved, "deployment", "web", "wbe")
    assert wrong.value.wrong and "wbe" not in str(wrong.value)
    bc.protect("prod")
    with pytest.raises(ConfirmationNeeded) as missing:
        require_typed_name(resolve_context(), "deployment", "web", None)
    assert not missing.value.wrong and "--confirm web" in str(missing.value) and missing.value.context == "prod"
    require_typed_name(resolve_context(), "deployment", "web", "web")
    require_typed_name(resolve_context("staging"), "deployment", "web", None)
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", TOKEN)  # the env key standing for the protected context asked for
    with pytest.raises(ConfirmationNeeded):
        require_typed_name(resolve_context("prod"), "secret", "hf", None)


def test_protected_path_follows_bentoml_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "elsewhere"))
    assert protected_path() == tmp_path / "elsewhere" / ".bentocloud-jupyter" / "protected.yaml"
    assert os.fspath(protected_path()).endswith("protected.yaml")


def test_concurrent_writers_lose_nothing() -> None:
    import threading

    names = [f"ctx{i}" for i in range(8)]
    errors: list[BaseException] = []

    def protect(name: str) -> None:
        try:
            set_protected(name, True)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=protect, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and all(is_protected(name) for name in names)
    leftovers = [p.name for p in protected_path().parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
