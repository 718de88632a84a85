"""Review of protected contexts and the banner as an attacker would: ways around the guard, and what leaks.

``BENTO_CLOUD_API_KEY`` holding a protected context's token, a context reached by ``BENTOML_CLOUD_CONTEXT``,
names differing in case or spaces, an endpoint that would print user:password or restyle a terminal, a
symbolic link in place of the protected file, writers racing, and the name typed back never echoed.
"""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from protect_helpers import Shell
from support import ready

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.protected import protected_contexts, protected_path, set_protected
from bentocloud_jupyter.core.credentials.resolve import resolve_context
from bentocloud_jupyter.core.errors import ConfigError, ContextNotFoundError
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded, protected_as, require_typed_name
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.ipython import banner
from bentocloud_jupyter.sandbox import Sandbox

PROD_TOKEN, DEV_TOKEN = "review-prod-token-never-shown", "review-dev-token-never-shown"


@pytest.fixture()
def two() -> None:
    """``dev`` (current) and a protected ``prod``, with different tokens."""
    config.save_context(config.Context("prod", "http://127.0.0.1:9", Token(PROD_TOKEN)))
    config.save_context(config.Context("dev", "http://127.0.0.1:9", Token(DEV_TOKEN)))
    config.set_current_context("dev")
    bc.protect("prod")


def _env_key(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", "http://127.0.0.1:9")


def test_env_key_holding_a_protected_token_is_guarded(two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _env_key(monkeypatch, PROD_TOKEN)
    with pytest.raises(ConfirmationNeeded) as caught:
        require_typed_name(resolve_context(), "deployment", "web", None)
    assert caught.value.context == "prod" and "BENTO_CLOUD_API_KEY" in str(caught.value)
    assert PROD_TOKEN not in str(caught.value) and PROD_TOKEN[-12:] not in str(caught.value)
    with pytest.raises(ConfirmationNeeded):  # asking for an unprotected context changes nothing: the key wins
        require_typed_name(resolve_context("dev"), "deployment", "web", None)
    monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", " prod ")  # a name that is no context: the token still says prod
    assert protected_as(resolve_context()) == "prod"
    require_typed_name(resolve_context(), "deployment", "web", "web")


@pytest.mark.parametrize("padded", [f" {PROD_TOKEN}", f"{PROD_TOKEN}\n", f"\t{PROD_TOKEN} "])
def test_env_key_with_spaces_around_a_protected_token_is_guarded(two: None, monkeypatch: pytest.MonkeyPatch,
                                                                 padded: str) -> None:
    _env_key(monkeypatch, padded)
    assert protected_as(resolve_context()) == "prod"


def test_env_key_of_another_account_is_not_asked(two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _env_key(monkeypatch, DEV_TOKEN)
    require_typed_name(resolve_context(), "deployment", "web", None)
    monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", "prod")  # but asking for prod is asking for protection
    with pytest.raises(ConfirmationNeeded):
        require_typed_name(resolve_context(), "deployment", "web", None)


def test_env_key_with_a_broken_file_still_matches_nothing_and_says_so(two: None,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _env_key(monkeypatch, PROD_TOKEN)
    config.credentials_path().write_text("contexts: [unclosed\n", encoding="utf-8")
    assert protected_as(resolve_context()) is None  # nothing saved to compare with: bentoml ignores the file too


def test_banner_names_the_protected_context_behind_the_env_key(two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    _env_key(monkeypatch, PROD_TOKEN)
    bundle = banner.banner_bundle(None)
    assert bundle is not None
    assert bundle["text/plain"] == ("BentoCloud → PROTECTED BENTO_CLOUD_API_KEY (overrides the file; it holds the "
                                    "token of context 'prod') · at 127.0.0.1")
    assert "#cf222e" in bundle["text/html"] and PROD_TOKEN not in repr(bundle)


def test_context_chosen_by_env_variable_is_guarded(two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTOML_CLOUD_CONTEXT", "prod")
    with pytest.raises(ConfirmationNeeded):
        require_typed_name(resolve_context(), "secret", "hf", None)
    bundle = banner.banner_bundle(None)
    assert bundle is not None
    assert bundle["text/plain"] == ("BentoCloud → PROTECTED context 'prod' (chosen by BENTOML_CLOUD_CONTEXT) · "
                                    "at 127.0.0.1")


@pytest.mark.parametrize("name", ["PROD", " prod", "prod ", "prod\n"])
def test_case_and_spaces_reach_no_other_context(two: None, name: str) -> None:
    with pytest.raises(ContextNotFoundError):
        bc.protect(name)
    with pytest.raises(ContextNotFoundError):
        resolve_context(name)
    assert protected_contexts() == {"prod"}


def test_recreated_by_login_stays_protected(two: None) -> None:
    config.save_context(config.Context("prod", "http://127.0.0.1:8", Token("review-new-token-after-login")))
    with pytest.raises(ConfirmationNeeded):
        require_typed_name(resolve_context("prod"), "deployment", "web", None)


@pytest.mark.parametrize("endpoint", ["https://admin:s3cret-pass@/", "http://ex\x1b[2Jample\x07/", "not a url",
                                      "http://[::1"])
def test_banner_shows_no_raw_endpoint(endpoint: str) -> None:
    config.save_context(config.Context("odd", endpoint, Token("review-odd-token-1")))
    bundle = banner.banner_bundle("odd")
    assert bundle is not None, endpoint
    text = bundle["text/plain"]
    assert "s3cret" not in text and "\x1b" not in text and "\x07" not in text and "not a url" not in text
    assert "s3cret" not in bundle["text/html"] and "\x1b" not in bundle["text/html"]
    assert text.startswith("BentoCloud → context 'odd' · at ")


def test_a_symlinked_file_is_not_replaced(two: None, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-protected.yaml"
    elsewhere.write_text("protected_contexts: [prod]\n", encoding="utf-8")
    protected_path().unlink()
    protected_path().symlink_to(elsewhere)
    assert protected_contexts() == {"prod"}  # read through the link
    with pytest.raises(ConfigError) as caught:
        bc.unprotect("prod")
    assert "symbolic link" in str(caught.value) and "\n" not in str(caught.value)
    assert protected_path().is_symlink() and elsewhere.read_text(encoding="utf-8") == "protected_contexts: [prod]\n"
    with pytest.raises(ConfigError):
        set_protected("dev", True)
    assert protected_path().is_symlink()


def test_concurrent_writers_lose_nothing(two: None) -> None:
    names = [f"ctx-{i}" for i in range(6)]
    start = threading.Barrier(len(names) + 1)
    errors: list[BaseException] = []

    def write(name: str | None) -> None:
        start.wait()
        try:
            set_protected(name or "prod", name is not None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in [*names, None]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == [] and protected_contexts() == set(names)


def test_a_wrong_name_typed_back_is_never_echoed(cell: Shell, sbx_context: Sandbox) -> None:
    ready("review-one")
    bc.protect("sbx")
    sbx_context.reset_stats()
    typed = "typed-by-mistake-" + sbx_context.token[-6:] + "-zz"
    ran = cell(f"%bentocloud terminate review-one --confirm {typed}")
    assert isinstance(ran.error, UsageError) and "is not 'review-one'" in ran.stderr
    assert typed not in "\n".join(cell.everything) and sbx_context.stats()["total"] == 0


def test_env_key_reaching_a_protected_context_sends_nothing(cell: Shell, sbx_context: Sandbox,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ready("review-two")
    bc.protect("sbx")
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", sbx_context.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", sbx_context.url)
    sbx_context.reset_stats()
    ran = cell("%bentocloud terminate review-two")
    assert isinstance(ran.error, UsageError) and "'sbx' is protected" in ran.stderr, ran.stderr
    (line,) = [x for x in ran.stdout.splitlines() if x.startswith("BentoCloud →")]
    assert line.startswith("BentoCloud → PROTECTED BENTO_CLOUD_API_KEY")
    assert sbx_context.stats()["total"] == 0 and "review-two" in sbx_context.state.deployments


def test_banner_once_before_a_deploy_cell_and_teardown(cell: Shell) -> None:
    ran = cell("%%deploy review-cell --dry-run\nbento: summarizer:v3\nscaling:\n  max_replicas: 1\n")
    assert [x for x in ran.stdout.splitlines() if x.startswith("BentoCloud →")] == []  # a dry run changes nothing
    ran = cell("%%deploy review-cell\nbento: summarizer:v3\nscaling:\n  max_replicas: 1\n")
    lines = ran.stdout.splitlines()
    assert [x for x in lines if x.startswith("BentoCloud →")] == ["BentoCloud → context 'sbx' · at 127.0.0.1"]
    assert lines[0].startswith("BentoCloud →"), ran.stdout
    torn = cell("%bentocloud teardown --yes").stdout.splitlines()
    assert [x for x in torn if x.startswith("BentoCloud →")] == ["BentoCloud → context 'sbx' · at 127.0.0.1"]
    assert torn[0].startswith("BentoCloud →")


@pytest.mark.parametrize("mode", [0o666, 0o620, 0o602])
def test_a_file_others_may_write_is_not_trusted(two: None, tmp_path: Path, mode: int) -> None:
    protected_path().chmod(mode)
    with pytest.raises(ConfigError) as caught:
        require_typed_name(resolve_context("dev"), "deployment", "web", None)  # fails closed: nothing is sent
    assert "chmod 600" in str(caught.value) and "\n" not in str(caught.value)
    bundle = banner.banner_bundle("dev")
    assert bundle is not None and "PROTECTED" in bundle["text/plain"]
    protected_path().chmod(0o600)
    shared = tmp_path / "shared.yaml"  # the same through a symbolic link to a file others may write
    shared.write_text("protected_contexts: []\n", encoding="utf-8")
    shared.chmod(mode)
    protected_path().unlink()
    protected_path().symlink_to(shared)
    with pytest.raises(ConfigError):
        protected_contexts()


def test_contexts_view_says_where_protection_by_name_falls_short(two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    config.save_context(config.Context("prod-copy", "http://127.0.0.1:9", Token(PROD_TOKEN)))
    text = repr(bc.contexts())
    assert "'prod-copy' has the token of protected context 'prod'" in text and "protect prod-copy" in text
    assert "'dev' has the token" not in text and PROD_TOKEN not in text
    config.remove_context("prod")  # renamed by hand: prod-copy is what is left
    text = repr(bc.contexts())
    assert "Protected context 'prod' is no longer saved" in text and "'prod-copy' has the token" not in text
    config.save_context(config.Context("prod", "http://127.0.0.1:9", Token(PROD_TOKEN)))
    _env_key(monkeypatch, PROD_TOKEN)
    text = repr(bc.contexts())
    assert "BENTO_CLOUD_API_KEY stands for protected context 'prod'" in text and PROD_TOKEN not in text


def test_a_folder_others_may_write_is_not_trusted(two: None) -> None:
    folder = protected_path().parent
    folder.chmod(0o777)  # anyone could remove the file and with it every protection
    try:
        with pytest.raises(ConfigError) as caught:
            require_typed_name(resolve_context("prod"), "deployment", "web", None)
        assert "chmod 700" in str(caught.value)
        folder.chmod(0o1777)  # sticky: others may not remove what is ours
        with pytest.raises(ConfirmationNeeded):
            require_typed_name(resolve_context("prod"), "deployment", "web", None)
    finally:
        folder.chmod(0o700)
    bc.unprotect("prod")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_a_server_named_organization_stays_one_short_line(two: None) -> None:
    from bentocloud_jupyter.core.guardrails.whereami import remember_organization

    remember_organization("http://127.0.0.1:9", Token(DEV_TOKEN), "acme\u202e<b>" + "x" * 5000 + "\n")
    bundle = banner.banner_bundle("dev")
    assert bundle is not None and len(bundle["text/plain"]) < 160 and "\n" not in bundle["text/plain"]
    assert "\u202e" not in bundle["text/plain"] and "<b>" not in bundle["text/html"]
