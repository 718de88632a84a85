"""The deployments panel in a protected context: Yes asks for the name typed back, a wrong name sends
nothing, the right one terminates."""

from __future__ import annotations

import html
from typing import Any

from support import wait_status

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials.protected import set_protected
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.widgets import DeploymentsPanel


def test_the_panel_asks_for_the_name_in_a_protected_context(sbx_context: Any) -> None:
    api.deploy("summarizer:v3", name="pp-one")
    wait_status("pp-one", {"running"})
    set_protected("sbx", True)
    panel = DeploymentsPanel()
    panel.search_text.value = "pp-one"
    panel.terminate_button.click()
    sbx_context.reset_stats()
    panel.yes_button.click()
    assert "type 'pp-one'" in html.unescape(panel.message.value) and panel.confirm_text.layout.display == ""
    panel.confirm_text.value = "pp-two"
    panel.yes_button.click()
    assert "nothing was sent" in html.unescape(panel.message.value)
    assert [r for r in sbx_context.stats()["by_route"] if not r.startswith("GET")] == []
    panel.confirm_text.value = "pp-one"
    panel.yes_button.click()
    assert "Terminating 'pp-one'" in html.unescape(panel.message.value)
    assert session.client_for()[0].get_deployment("pp-one").status in ("terminating", "terminated")
    set_protected("sbx", False)
