"""Every server-provided string rendered as HTML is escaped; links only for http(s) URLs; reprs never raise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.deployments.watch import WatchState
from bentocloud_jupyter.core.display import link
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.results import (
    ContextsView,
    DeploymentsView,
    DeploymentView,
    Message,
    StatusView,
    TableView,
    TextOutput,
)

EVIL = '<script>alert("x")</script>'


def evil_deployment(url: str = "javascript:alert(1)") -> Deployment:
    return Deployment(name=EVIL, status=EVIL, cluster=EVIL, bento=EVIL, urls=(url,), revision=EVIL,
                      instance_type=EVIL, labels={EVIL: EVIL}, creator=EVIL)


def renderings() -> list[str]:
    d = evil_deployment()
    state = WatchState(EVIL)
    state.observe(d)
    state.observe(Deployment(**{**d.__dict__, "status": "running"}))  # ready: the URL would be a link
    views = [DeploymentView(d, note=EVIL), DeploymentsView([d]), StatusView(state), Message(EVIL),
             TableView([EVIL], [[EVIL]]), TextOutput(EVIL),
             ContextsView([Context(EVIL, EVIL, "tok-abcdef-123456", EVIL)], EVIL, Path(EVIL))]
    return [view._repr_html_() for view in views]


@pytest.mark.parametrize("index", range(7))
def test_no_raw_markup_and_no_script_links(index: int) -> None:
    html = renderings()[index]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def test_links_only_for_web_urls() -> None:
    assert link("javascript:alert(1)").startswith("javascript") and "<a" not in link("javascript:alert(1)")
    assert "<a" not in link("data:text/html,hi") and "<a" not in link("file:///etc/passwd")
    assert 'href="https://x.example/?a=1&amp;b=%22"' in link('https://x.example/?a=1&b=%22')


def test_reprs_never_raise_on_odd_values() -> None:
    odd = Deployment(name="d", status="running", cluster="c", urls=("https://a", "https://b"), scaling_min=None)
    for view in (DeploymentView(odd), DeploymentsView([odd]), StatusView(WatchState("d"))):
        assert repr(view) and view._repr_html_()
