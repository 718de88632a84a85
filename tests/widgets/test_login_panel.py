"""LoginPanel: pasted token, bad token, and the browser code flow approved (or cancelled) through the sandbox."""

from __future__ import annotations

import asyncio
import re

import httpx
from support import run_loop, until
from widget_helpers import assert_secret_absent, href

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets import LoginPanel


def test_login_saves_the_context_and_forgets_the_token(live: Sandbox) -> None:
    panel = LoginPanel(endpoint=live.url, context="sbx")
    panel.token_text.value = live.token
    panel.login_button.click()
    assert "Logged in as" in panel.message.value and "sbx" in panel.message.value
    saved = config.load_config()
    assert saved.find("sbx") is not None and saved.find("sbx").api_token.reveal() == live.token  # type: ignore[union-attr]
    assert saved.current_context_name == "sbx"  # the file had no valid current context
    assert panel.token_text.value == ""
    assert not panel.login_button.disabled and not panel.token_text.disabled
    assert panel.result is not None and panel.result.context == "sbx"
    assert_secret_absent(panel, live.token)
    assert "LoginPanel(" in repr(panel) and "logged in" in repr(panel)


def test_bad_token_shows_one_line_and_saves_nothing(live: Sandbox) -> None:
    panel = LoginPanel(endpoint=live.url, context="sbx")
    bad = "not-a-real-token-0123456789"
    panel.token_text.value = bad
    panel.login_button.click()
    assert "#cf222e" in panel.message.value  # shown as an error
    assert "Traceback" not in panel.message.value and "\n" not in panel.message.value
    assert config.load_config().contexts == ()
    assert panel.token_text.value == ""
    assert not panel.login_button.disabled
    assert_secret_absent(panel, bad)


def test_empty_token_and_bad_endpoint_are_reported(live: Sandbox) -> None:
    panel = LoginPanel(endpoint=live.url)
    panel.login_button.click()
    assert "No API token" in panel.message.value
    panel.endpoint_text.value = "ftp://example.invalid"
    panel.token_text.value = "whatever-123456"
    panel.login_button.click()
    assert "#cf222e" in panel.message.value and config.load_config().contexts == ()


async def _approve(url: str) -> None:
    """Do what the user does in the browser: open the page and press Approve."""
    async with httpx.AsyncClient() as browser:
        page = await browser.get(url)
        action = re.search(r'action="([^"]+)"', page.text)
        assert action is not None
        code = httpx.URL(url).params["code"]
        done = await browser.post(httpx.URL(url).join(action.group(1).replace("&amp;", "&")), data={"code": code})
        assert done.status_code == 200


def test_browser_flow_logs_in_with_the_approved_token(live: Sandbox) -> None:
    async def main() -> LoginPanel:
        panel = LoginPanel(endpoint=live.url, context="browser", poll_interval=0.05)
        panel.browser_button.click()
        assert panel.working and panel.browser_task is not None
        assert panel.login_button.disabled and panel.endpoint_text.disabled and not panel.cancel_button.disabled
        await until(lambda: "href" in panel.link_html.value)
        assert "left" in panel.link_html.value  # the countdown
        url = href(panel.link_html.value)
        assert url.startswith(live.url + "/api_tokens?code=")
        await _approve(url)
        await asyncio.wait_for(panel.browser_task, 10)
        return panel

    panel = run_loop(main)
    assert "Logged in as" in panel.message.value, panel.message.value
    saved = config.get_context("browser")
    assert saved.api_token.reveal() != live.token
    assert not panel.login_button.disabled and panel.cancel_button.disabled and panel.link_html.value == ""
    assert_secret_absent(panel, saved.api_token.reveal())


def test_browser_flow_can_be_cancelled(live: Sandbox) -> None:
    async def main() -> LoginPanel:
        panel = LoginPanel(endpoint=live.url, poll_interval=0.05)
        panel.browser_button.click()
        await asyncio.sleep(0.15)
        panel.cancel_button.click()
        assert panel.browser_task is not None
        await asyncio.wait_for(panel.browser_task, 5)
        return panel

    panel = run_loop(main)
    assert "cancelled" in panel.message.value
    assert not panel.working and not panel.browser_button.disabled and panel.cancel_button.disabled
    assert config.load_config().contexts == ()


def test_browser_flow_needs_a_running_loop(live: Sandbox) -> None:
    panel = LoginPanel(endpoint=live.url)
    panel.browser_button.click()
    assert "event loop" in panel.message.value and not panel.working
