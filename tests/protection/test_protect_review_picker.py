"""The context picker under review: no user:password from an endpoint in a label; removing a protected context
says its protection stays."""

from __future__ import annotations

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.guardrails.whereami import shown_endpoint
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.widgets import ContextPicker


def test_labels_show_no_credentials_of_the_endpoint() -> None:
    config.save_context(config.Context("odd", "https://admin:s3cret-pass@example.com:8443/api/", Token("pick-1-tok")))
    picker = ContextPicker(check_interval=3600)
    try:
        (label,) = [text for text, name in picker.dropdown.options if name == "odd"]
        assert "s3cret" not in label and label.endswith("@ https://example.com:8443/api")
    finally:
        picker.close()
    assert shown_endpoint("http://127.0.0.1:3000") == "http://127.0.0.1:3000"
    assert shown_endpoint("http://ex\x1bample/p\x07") == "http://'ex\\x1bample'/p?"
    assert shown_endpoint("no url at all") == "an endpoint with no host name"


def test_removing_a_protected_context_says_the_protection_stays() -> None:
    config.save_context(config.Context("prod", "https://example.com", Token("pick-2-token")))
    config.save_context(config.Context("dev", "https://example.com", Token("pick-3-token")))
    bc.protect("prod")
    picker = ContextPicker(check_interval=3600)
    try:
        picker.dropdown.value = "prod"
        picker.remove_button.click()
        assert "protection stays" in picker.confirm_html.value
        picker.no_button.click()
        picker.dropdown.value = "dev"
        picker.remove_button.click()
        assert "protection stays" not in picker.confirm_html.value
    finally:
        picker.close()


def test_the_picker_notices_a_protected_file_made_writable_by_others() -> None:
    from bentocloud_jupyter.core.credentials.protected import protected_path

    config.save_context(config.Context("prod", "https://example.com", Token("pick-4-token")))
    bc.protect("prod")
    picker = ContextPicker(check_interval=3600)
    try:
        protected_path().chmod(0o666)
        assert picker.check_for_changes() and "chmod 600" in picker.banner.value
    finally:
        picker.close()
        protected_path().chmod(0o600)
