"""ContextPicker: list, choose, remove with confirmation, env override, broken file, changes by another process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import run_loop, until
from widget_helpers import assert_secret_absent, plain

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.widgets import ContextPicker

TOKEN_A = "token-of-context-a-123456"
TOKEN_B = "token-of-context-b-654321"


@pytest.fixture()
def two_contexts() -> None:
    config.save_context(Context("a", "https://a.example", TOKEN_A, "a@example.com"))
    config.save_context(Context("b", "https://b.example", TOKEN_B, None))
    config.set_current_context("a")


def _labels(picker: ContextPicker) -> dict[str, str]:
    return {value: label for label, value in picker.dropdown.options}


def _write_from_another_process(name: str) -> None:
    code = ("from bentocloud_jupyter.core.credentials.config import Context, save_context; "
            f"save_context(Context({name!r}, 'https://other.example', 'token-other-999999', 'o@example.com'))")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30)


@pytest.mark.usefixtures("two_contexts")
def test_lists_contexts_with_the_current_one_marked() -> None:
    picker = ContextPicker()
    labels = _labels(picker)
    assert labels == {"a": "★ a - a@example.com @ https://a.example", "b": "   b - (no email) @ https://b.example"}
    assert picker.dropdown.value == "a" and picker.banner.value == ""
    assert_secret_absent(picker, TOKEN_A)
    assert_secret_absent(picker, TOKEN_B)
    assert repr(picker) == "ContextPicker(current='a', contexts=2)"


@pytest.mark.usefixtures("two_contexts")
def test_choosing_writes_the_current_context() -> None:
    picker = ContextPicker()
    picker.dropdown.value = "b"
    assert config.load_config().current_context_name == "b"
    assert _labels(picker)["b"].startswith("★") and not _labels(picker)["a"].startswith("★")
    assert "now 'b'" in plain(picker.message.value)


@pytest.mark.usefixtures("two_contexts")
def test_remove_asks_first() -> None:
    picker = ContextPicker()
    picker.dropdown.value = "b"
    picker.remove_button.click()
    assert picker.confirm_row.layout.display == "flex"
    assert "Really remove context 'b'" in plain(picker.confirm_html.value)
    assert config.load_config().find("b") is not None  # nothing happened yet
    picker.no_button.click()
    assert picker.confirm_row.layout.display == "none" and config.load_config().find("b") is not None
    picker.remove_button.click()
    picker.yes_button.click()
    assert config.load_config().names == ["a"]
    assert list(_labels(picker)) == ["a"] and "Removed context" in picker.message.value
    assert not picker.remove_button.disabled


@pytest.mark.usefixtures("two_contexts")
def test_environment_override_banner(monkeypatch: pytest.MonkeyPatch) -> None:
    env_token = "env-token-abcdef-123456"
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", env_token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", "https://env.example")
    picker = ContextPicker()
    assert "BENTO_CLOUD_API_KEY" in picker.banner.value and "https://env.example" in picker.banner.value
    assert_secret_absent(picker, env_token)
    monkeypatch.delenv("BENTO_CLOUD_API_KEY")
    assert picker.check_for_changes() and picker.banner.value == ""


def test_broken_file_is_reported_inline_and_recovers(isolated_home: Path) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    config.credentials_path().write_text("contexts: [\n")
    picker = ContextPicker()
    assert "not valid YAML" in picker.message.value and picker.dropdown.options == ()
    assert picker.dropdown.disabled and picker.remove_button.disabled
    config.credentials_path().unlink()
    config.save_context(Context("fixed", "https://a.example", TOKEN_A))
    assert picker.check_for_changes()
    assert list(_labels(picker)) == ["fixed"]


def test_empty_file_suggests_logging_in() -> None:
    picker = ContextPicker()
    assert picker.dropdown.options == () and "log in" in picker.message.value


@pytest.mark.usefixtures("two_contexts")
def test_change_by_another_process_is_noticed() -> None:
    picker = ContextPicker()
    assert not picker.check_for_changes()  # unchanged: no re-read
    _write_from_another_process("other")
    assert picker.check_for_changes()
    assert "other" in _labels(picker) and not picker.check_for_changes()


@pytest.mark.usefixtures("two_contexts")
def test_periodic_task_picks_up_changes_and_stops_on_close() -> None:
    async def main() -> None:
        picker = ContextPicker(check_interval=0.05)
        assert picker.watcher.running
        _write_from_another_process("later")
        await until(lambda: "later" in _labels(picker))
        picker.close()
        assert not picker.watcher.running

    run_loop(main)


@pytest.mark.usefixtures("two_contexts")
def test_watcher_starts_lazily_when_displayed() -> None:
    picker = ContextPicker()
    assert not picker.watcher.running  # no loop at construction

    async def main() -> None:
        bundle = picker._repr_mimebundle_()
        assert "application/vnd.jupyter.widget-view+json" in bundle
        assert picker.watcher.running
        picker.close()

    run_loop(main)
