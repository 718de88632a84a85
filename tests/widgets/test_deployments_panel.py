"""DeploymentsPanel: listing, search and cluster filters, confirmed terminate/delete, watch, auto-refresh."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from support import deploy, run_loop, until, wait_status
from widget_helpers import assert_secret_absent, plain

from bentocloud_jupyter.core.deployments.watch import Outcome
from bentocloud_jupyter.core.errors import ConflictError, NotFoundError
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets import DeploymentsPanel

AWS = "aws-us-west-2"


@pytest.fixture()
def three(logged_in: Sandbox) -> Sandbox:
    for bento, name, cluster in (("summarizer:v3", "wp-alpha", None), ("iris_classifier:v1", "wp-beta", None),
                                 ("summarizer:v1", "wp-gamma", AWS)):
        with contextlib.suppress(ConflictError):  # created by an earlier test of this package
            deploy(bento, name, cluster=cluster)
    return logged_in


def _names(panel: DeploymentsPanel) -> set[str]:
    return {name for _, (name, _) in panel.target_dropdown.options}


def test_lists_deployments_with_badges_and_clusters(three: Sandbox) -> None:
    panel = DeploymentsPanel()
    assert {"wp-alpha", "wp-beta", "wp-gamma"} <= _names(panel)
    table = panel.table.value
    assert "wp-alpha" in table and "bcj-badge" in table and "iris_classifier:v1" in table
    assert [label for label, _ in panel.cluster_dropdown.options][:1] == ["All clusters"]
    assert {"gcp-us-central-1", AWS} <= {value for _, value in panel.cluster_dropdown.options}
    assert "deployment(s), refreshed" in plain(panel.message.value)
    assert_secret_absent(panel, three.token)
    assert repr(panel).startswith("DeploymentsPanel(context=None, deployments=")


def test_search_and_cluster_filter_locally(three: Sandbox) -> None:
    panel = DeploymentsPanel()
    requests = three.stats()["total"]
    panel.search_text.value = "alpha"
    assert _names(panel) == {"wp-alpha"} and "wp-beta" not in panel.table.value
    panel.search_text.value = "IRIS"  # matches the bento, case-insensitively
    assert _names(panel) == {"wp-beta"}
    panel.search_text.value = ""
    panel.cluster_dropdown.value = AWS
    assert _names(panel) == {"wp-gamma"}
    panel.search_text.value = "no-such-thing"
    assert panel.target_dropdown.options == () and panel.watch_button.disabled and panel.delete_button.disabled
    assert "No deployments" in panel.table.value
    assert three.stats()["total"] == requests  # filtering sent no request


def test_terminate_and_delete_ask_first(logged_in: Sandbox) -> None:
    deploy("summarizer:v3", "wp-doomed")
    wait_status("wp-doomed", {"running"})
    panel = DeploymentsPanel()
    panel.search_text.value = "wp-doomed"
    panel.terminate_button.click()
    assert panel.confirm_row.layout.display == "flex" and "Really terminate 'wp-doomed'" in plain(
        panel.confirm_html.value)
    panel.no_button.click()
    assert panel.confirm_row.layout.display == "none"
    client, _ = session.client_for()
    assert client.get_deployment("wp-doomed").status == "running"
    panel.terminate_button.click()
    panel.yes_button.click()
    assert "Terminating 'wp-doomed'" in plain(panel.message.value)
    assert client.get_deployment("wp-doomed").status in ("terminating", "terminated")
    assert not panel.terminate_button.disabled and not panel.refresh_button.disabled

    panel.delete_button.click()
    assert "Really delete 'wp-doomed'" in plain(panel.confirm_html.value)
    panel.yes_button.click()
    assert "Deleted deployment 'wp-doomed'" in plain(panel.message.value)
    with pytest.raises(NotFoundError):
        client.get_deployment("wp-doomed")
    assert "wp-doomed" not in _names(panel)


def test_action_errors_show_in_the_panel(logged_in: Sandbox) -> None:
    panel = DeploymentsPanel()
    panel.show([Deployment("wp-ghost", "running", "gcp-us-central-1")])
    panel.delete_button.click()
    panel.yes_button.click()
    assert "#cf222e" in panel.message.value and "Traceback" not in panel.message.value


def test_watch_opens_a_status_below(three: Sandbox) -> None:
    async def main() -> DeploymentsPanel:
        panel = DeploymentsPanel()
        panel.search_text.value = "wp-beta"
        panel.watch_button.click()
        assert panel.status is not None and panel.watch_area.children == (panel.status,)
        await asyncio.wait_for(panel.status.done, 10)
        return panel

    panel = run_loop(main)
    assert panel.status is not None and panel.status.state.outcome is Outcome.READY
    assert "wp-beta" in panel.status.html.value


def test_auto_refresh_runs_on_the_loop_and_stops(logged_in: Sandbox) -> None:
    async def main() -> None:
        panel = DeploymentsPanel(refresh_interval=0.05)
        panel.auto_toggle.value = True
        assert panel.auto_refresher.running
        deploy("summarizer:v3", "wp-late")
        await until(lambda: "wp-late" in _names(panel))
        panel.auto_toggle.value = False
        assert not panel.auto_refresher.running
        panel.auto_toggle.value = True
        panel.close()
        assert not panel.auto_refresher.running

    run_loop(main)


def test_auto_refresh_needs_a_loop_and_errors_are_inline(live: Sandbox) -> None:
    panel = DeploymentsPanel()  # no context saved
    assert "No context named" in plain(panel.message.value)
    panel.auto_toggle.value = True
    assert panel.auto_toggle.value is False and "event loop" in panel.message.value


def test_table_escapes_server_strings(logged_in: Sandbox) -> None:
    panel = DeploymentsPanel()
    panel.show([Deployment("x", "<img src=x onerror=alert(1)>", "c", bento="<script>alert(1)</script>",
                           urls=("javascript:alert(1)",))])
    assert "<script>" not in panel.table.value and "<img" not in panel.table.value
    assert 'href="javascript' not in panel.table.value
