"""The one path: a verb returns what to follow, and following starts from it.

No "unknown" first frame, no second GET right behind the verb's own, one credentials resolution per
command, and the magics word the core's hints.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.api import following
from bentocloud_jupyter.core.deployments.watch import Goal
from bentocloud_jupyter.core.errors import InvalidInputError, WatchTimeout
from bentocloud_jupyter.core.hints import Hint, python_words, sentence
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.ipython.words import magic_words


def _gets(sandbox: Any) -> int:
    return sum(n for route, n in sandbox.stats()["by_route"].items() if route.startswith("GET /api/v2/deployments"))


def test_deploy_carries_what_to_follow(sbx_context: Any) -> None:
    view = bc.deploy("summarizer", name="to-follow")
    follow = view.follow
    assert follow is not None
    assert (follow.name, follow.goal, follow.snapshot) == ("to-follow", Goal.READY, view.deployment)
    assert follow.resolved.context.name == "sbx" and follow.cluster == view.deployment.cluster
    assert 3500 < follow.remaining <= 3600
    assert sbx_context.token not in repr(follow)


def test_update_follows_the_new_revision_and_terminate_the_end(sbx_context: Any) -> None:
    bc.deploy("summarizer", name="rev", wait=True)
    updated = bc.update("rev", scaling_max=2)
    assert updated.follow is not None and updated.follow.previous_revision == updated.previous_revision
    assert updated.follow.goal is Goal.READY
    stopped = bc.terminate("rev")
    assert stopped.follow is not None and stopped.follow.goal is Goal.TERMINATED
    assert bc.terminate("rev", wait=True).follow is None  # waited: nothing left to follow


def test_watch_starts_from_the_snapshot_without_a_second_get(sbx_context: Any) -> None:
    view = bc.deploy("summarizer", name="first-frame")

    async def follow_it() -> tuple[str, int, Any]:
        sbx_context.reset_stats()
        watch = following.start_watch(view.follow)
        first = watch.state.status
        await asyncio.sleep(0.3)  # under the hub's fast interval: no poll yet
        early = _gets(sbx_context)
        return first, early, await asyncio.wait_for(watch.future, 20)

    first, early, state = asyncio.run(follow_it())
    assert first == view.deployment.status != "unknown"
    assert early == 0
    assert state.outcome.value == "ready"
    session.close_all()


def test_one_credentials_resolution_per_command(sbx_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real = session.resolve_context
    monkeypatch.setattr(session, "resolve_context", lambda *a, **k: calls.append(a) or real(*a, **k))
    view = bc.status(bc.deploy("summarizer", name="resolved-once").deployment.name)
    calls.clear()
    view = bc.status("resolved-once")
    assert len(calls) == 1 and view.follow is not None and view.follow.resolved.context.name == "sbx"


def test_a_settled_snapshot_ends_the_watch_at_once(sbx_context: Any) -> None:
    bc.deploy("summarizer", name="settled", wait=True)
    view = bc.status("settled")

    async def follow_it() -> Any:
        sbx_context.reset_stats()
        watch = following.start_watch(view.follow)
        return watch, await watch.future

    watch, state = asyncio.run(follow_it())
    assert state.done and watch.hub is None and _gets(sbx_context) == 0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -1.0, 0.0])
def test_timeouts_are_checked(sbx_context: Any, bad: float) -> None:
    with pytest.raises(InvalidInputError, match="timeout"):
        bc.status("anything", wait=True, timeout=bad)


def test_hints_are_data_each_front_end_words_them() -> None:
    hint = Hint("status", {"name": "svc", "wait": True})
    assert python_words(hint) == "bentocloud_jupyter.status(name='svc', wait=True)"
    assert magic_words(hint) == "%bentocloud status svc --wait"
    assert magic_words(Hint("deploy", {"bento": "s:v3", "name": "x"})) == "%deploy s:v3 --name x"
    assert magic_words(Hint("configure", {"timeout": 120})) == "%config BentoCloudMagics.timeout = 120"
    assert magic_words(Hint("openapi", {"name": "svc"})) is None  # no magic: only the Python form
    assert sentence(Hint("openapi", {"name": "svc"})) == "run `bentocloud_jupyter.openapi(name='svc')`"
    both = sentence(Hint("login"))
    assert "`%bentocloud login`" in both and "`bentocloud_jupyter.login()`" in both


def test_errors_keep_their_hint_as_data() -> None:
    error = WatchTimeout("Deployment 'x' did not settle.", name="x", hint=Hint("status", {"name": "x"}))
    assert error.hint == Hint("status", {"name": "x"})
    assert error.words("magic").endswith("Run `%bentocloud status x`.")
    assert error.words("python").endswith("Run `bentocloud_jupyter.status(name='x')`.")
