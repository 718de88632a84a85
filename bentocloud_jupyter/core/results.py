"""What the API verbs return: values that show themselves well in a notebook and in a terminal.

Each result has an escaped ``_repr_html_`` (every server string through :func:`~.display.esc`, links
only for http(s)) and a readable plain-text ``__repr__``; neither ever shows a token or raises.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.credentials.config import ENV_CONTEXT_NAME, Context, ResolvedContext
from bentocloud_jupyter.core.deployments.plan import ChangePlan
from bentocloud_jupyter.core.deployments.watch import Goal, Outcome, WatchState
from bentocloud_jupyter.core.display import badge, esc, format_duration, format_time, html_table, link, text_table
from bentocloud_jupyter.core.guardrails.labels import is_ours
from bentocloud_jupyter.core.guardrails.ttl import overdue, ttl_note
from bentocloud_jupyter.core.guardrails.whereami import shown_endpoint
from bentocloud_jupyter.core.hints import sentence
from bentocloud_jupyter.core.messages import Message, TextOutput, safe_repr
from bentocloud_jupyter.core.rest.models import Deployment, Organization, User

__all__ = ["ChangePlan", "ContextsView", "DeploymentView", "DeploymentsView", "DryRun", "Follow", "Message",
           "StatusView", "TableView", "TextOutput", "WhoAmI", "deployment_summary", "html_of"]


def html_of(view: Any) -> str:
    """The escaped HTML a result shows in a notebook (what widgets embed)."""
    return str(view._repr_html_())


@dataclass(frozen=True)
class ContextsView:
    """The contexts of the credentials file, the current one marked, and any environment override."""

    contexts: Sequence[Context]
    current: str
    path: Path
    env_override: ResolvedContext | None = None
    problems: Sequence[str] = ()

    @property
    def banner(self) -> str:
        if self.env_override is None:
            return ""
        return (f"BENTO_CLOUD_API_KEY is set: every call uses it (endpoint "
                f"{shown_endpoint(self.env_override.context.endpoint)}), not the contexts below. Unset it to use them.")

    def _rows(self) -> list[list[str]]:
        return [["*" if c.name == self.current and self.env_override is None else "", c.name,
                 shown_endpoint(c.endpoint), c.email or "", c.api_token.masked] for c in self.contexts]

    @safe_repr
    def __repr__(self) -> str:
        lines = [self.banner] if self.banner else []
        if not self.contexts:
            lines.append(f"No contexts in {self.path}; log in with `%bentocloud login`.")
        else:
            lines.append(text_table(["", "name", "endpoint", "email", "token"], self._rows()))
            lines.append(f"({self.path})")
        return "\n".join(lines + list(self.problems))

    @safe_repr
    def _repr_html_(self) -> str:
        parts = [f'<div style="color:#9a6700"><b>{esc(self.banner)}</b></div>'] if self.banner else []
        if not self.contexts:
            parts.append(f"<div>No contexts in <code>{esc(self.path)}</code>; log in with "
                         "<code>%bentocloud login</code>.</div>")
        else:
            parts.append(html_table(["", "name", "endpoint", "email", "token"], self._rows()))
            parts.append(f"<div><small>{esc(self.path)}</small></div>")
        parts += [f'<div style="color:#9a6700">{esc(p)}</div>' for p in self.problems]
        return "".join(parts)


@dataclass(frozen=True)
class WhoAmI:
    """Who the resolved credentials belong to, and where they came from."""

    resolved: ResolvedContext
    user: User
    organization: Organization

    def _lines(self) -> list[tuple[str, str]]:
        ctx = self.resolved.context
        return [("user", f"{self.user.display_name} <{self.user.email}>"), ("organization", self.organization.name),
                ("endpoint", ctx.endpoint), ("context", ctx.name if ctx.name != ENV_CONTEXT_NAME else "(environment)"),
                ("credentials from", self.resolved.description)]

    @safe_repr
    def __repr__(self) -> str:
        return "\n".join(f"{k:>16}: {v}" for k, v in self._lines())

    @safe_repr
    def _repr_html_(self) -> str:
        return html_table(["", ""], [[k, v] for k, v in self._lines()])


def deployment_summary(d: Deployment) -> dict[str, Any]:
    """The machine-readable fields of ``-o json``/``-o yaml`` (one object per deployment); the labels we
    write (created-by, session, expires-at) apart from the user's, under ``guardrails``."""
    ours = {k: v for k, v in d.labels.items() if is_ours(k)}
    summary = {"name": d.name, "cluster": d.cluster, "status": d.status, "bento": d.bento, "urls": list(d.urls),
            "created_at": format_time(d.created_at), "updated_at": format_time(d.updated_at),
            "revision": d.revision, "instance_type": d.instance_type,
            "scaling": {"min_replicas": d.scaling_min, "max_replicas": d.scaling_max},
            "access_authorization": d.access_authorization,
            "labels": {k: v for k, v in d.labels.items() if not is_ours(k)}, "created_by": d.creator,
            "entry_service": d.entry_service, "strategy": d.strategy,
            "envs": [{"name": k, "value": v} for k, v in d.envs], "secrets": list(d.secrets),
            "services": {svc.name: svc.summary() for svc in d.services}}
    return {**summary, "guardrails": ours} if ours else summary


def _pairs(envs: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{key}={value}" for key, value in envs)


def _config_lines(d: Deployment) -> list[tuple[str, str]]:
    """The card's configuration rows: the entry service's strategy and envs, secrets by name, other services."""
    entry = d.services[0] if d.services else None
    lines = [("strategy", d.strategy or "(default)"), ("access auth", "on" if d.access_authorization else "off")]
    if len(d.services) > 1:
        lines.insert(0, ("entry service", d.entry_service))
    envs = _pairs(d.envs) + (f"; {entry.name}: {_pairs(entry.envs)}" if entry and entry.envs else "")
    lines += [("envs", envs.lstrip("; ")), ("secrets", ", ".join(d.secrets))]
    others = [f"{svc.name}: {svc.instance_type or '(default)'}, {svc.scaling}"
              + (f", {svc.strategy}" if svc.strategy else "") + (f", envs {_pairs(svc.envs)}" if svc.envs else "")
              for svc in d.services[1:]]
    lines.append(("other services", "; ".join(others)))
    return [(key, value) for key, value in lines if value]


def render_summaries(summaries: Any, output: str) -> TextOutput:
    """``-o json``/``-o yaml`` text; anything that is no JSON value is written as its text, never a TypeError."""
    text = json.dumps(summaries, indent=2, ensure_ascii=False, default=str)
    if output == "yaml":
        plain = json.loads(text)
        return TextOutput(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True).rstrip(), "yaml")
    return TextOutput(text, "json")


def _scaling(d: Deployment) -> str:
    low = "-" if d.scaling_min is None else str(d.scaling_min)
    high = "-" if d.scaling_max is None else str(d.scaling_max)
    return f"{low}..{high} replicas"


@dataclass(frozen=True)
class Follow:
    """What to keep showing after a verb acted on a deployment: the front end follows it, nothing goes back down.

    ``snapshot`` is the deployment as the verb last saw it (so the first frame is never "unknown" and no
    second GET is needed); ``resolved`` is the context the verb used (resolved once per command).
    """

    name: str
    cluster: str | None
    goal: Goal
    resolved: ResolvedContext = field(repr=False)
    deadline: float
    snapshot: Deployment | None = field(default=None, repr=False)
    previous_revision: str | None = None

    @property
    def remaining(self) -> float:
        """Seconds left of the verb's timeout (at least one, so a watch always gets a look)."""
        return max(self.deadline - time.monotonic(), 1.0)


@dataclass(frozen=True)
class DeploymentView:
    """One deployment, as a small card; ``follow`` says what a live display should watch next.

    ``changes`` is what ``apply`` changed (current vs new, per field), shown above the card.
    """

    deployment: Deployment
    note: str = ""
    previous_revision: str | None = None
    follow: Follow | None = field(default=None, repr=False, compare=False)
    changes: ChangePlan | None = field(default=None, repr=False, compare=False)

    def _fields(self) -> list[tuple[str, str, bool]]:
        d = self.deployment
        scaling = _scaling(d)
        return [("status", badge(d.status), True), ("bento", esc(d.bento), True),
                ("cluster", esc(d.cluster), True), ("revision", esc(d.revision), True),
                ("instance type", esc(d.instance_type or ""), True), ("scaling", esc(scaling), True),
                *((key, esc(value), True) for key, value in _config_lines(d)),
                ("URL", link(d.url) if d.url and d.is_ready else esc(d.url or ""), True),
                ("created", esc(format_time(d.created_at)), True)]

    @safe_repr
    def __repr__(self) -> str:
        d = self.deployment
        head = f"Deployment {d.name!r}: {d.status}"
        rows = [f"  {k:>13}: {v}" for k, v in (("bento", d.bento), ("cluster", d.cluster),
                                                ("revision", d.revision), ("instance type", d.instance_type or ""),
                                                ("scaling", _scaling(d)), *_config_lines(d),
                                                ("URL", d.url or ""), ("created", format_time(d.created_at)))]
        plan = [repr(self.changes)] if self.changes is not None else []
        ttl = ttl_note(d.name, d.status, d.labels, cluster=d.cluster)
        return "\n".join([*plan, head, *rows] + [line for line in (self.note, ttl) if line])

    @safe_repr
    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td style='text-align:left'>{v}</td></tr>"
                       for k, v, _ in self._fields())
        ttl = ttl_note(self.deployment.name, self.deployment.status, self.deployment.labels,
                       cluster=self.deployment.cluster)
        note = "".join(f"<div>{esc(line)}</div>" for line in (self.note, ttl) if line)
        plan = self.changes._repr_html_() if self.changes is not None else ""
        return f"<div>{plan}<b>{esc(self.deployment.name)}</b><table>{rows}</table>{note}</div>"


@dataclass(frozen=True)
class DeploymentsView:
    """Deployments as a table: name, status badge, bento, cluster, URL, creation time."""

    deployments: Sequence[Deployment]
    context: str = ""
    complete: bool = True
    """False when a search or label filter left deployments out (a live panel would show them all)."""
    requested_context: str | None = None

    def _text_rows(self) -> list[list[str]]:
        return [[d.name, d.status, d.bento, d.cluster, d.url or "", format_time(d.created_at)]
                for d in self.deployments]

    def overdue_notes(self) -> list[str]:
        """One line per deployment that outlived its TTL and still runs, with the command that stops it."""
        return [ttl_note(d.name, d.status, d.labels, cluster=d.cluster)
                for d in self.deployments if overdue(d.status, d.labels) is not None]

    @safe_repr
    def __repr__(self) -> str:
        if not self.deployments:
            return "No deployments."
        table = text_table(["name", "status", "bento", "cluster", "url", "created"], self._text_rows())
        return "\n".join([table, *self.overdue_notes()])

    @safe_repr
    def _repr_html_(self) -> str:
        if not self.deployments:
            return "<div>No deployments.</div>"
        rows = [[esc(d.name), badge(d.status), esc(d.bento), esc(d.cluster), link(d.url) if d.url else "",
                 esc(format_time(d.created_at))] for d in self.deployments]
        flags = "".join(f'<div style="color:#9a6700">{esc(note)}</div>' for note in self.overdue_notes())
        return html_table(["name", "status", "bento", "cluster", "url", "created"], rows,
                          raw_columns=range(6)) + flags


@dataclass(frozen=True)
class TableView:
    """A titled table of plain values (instance types, clusters)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    empty: str = "Nothing to show."

    @safe_repr
    def __repr__(self) -> str:
        return text_table(self.headers, self.rows) if self.rows else self.empty

    @safe_repr
    def _repr_html_(self) -> str:
        return html_table(self.headers, [[str(c) if c is not None else "" for c in r] for r in self.rows]) \
            if self.rows else f"<div>{esc(self.empty)}</div>"


@dataclass(frozen=True)
class DryRun:
    """The request ``%deploy --dry-run`` would send (envs' values masked), and the service key it resolved."""

    body: Mapping[str, Any]
    cluster: str | None
    service: str
    summary: str
    method: str = "POST"
    path: str = "/api/v2/deployments"
    masked_body: Mapping[str, Any] = field(default_factory=dict)

    @safe_repr
    def __repr__(self) -> str:
        query = f"?cluster={self.cluster or ''}"
        return (f"{self.summary}\nservices key: {self.service!r} (entry service of the bento)\n"
                f"{self.method} {self.path}{query}\n{json.dumps(self.masked_body, indent=2)}")

    @safe_repr
    def _repr_html_(self) -> str:
        return f"<pre>{esc(repr(self))}</pre>"


@dataclass(frozen=True)
class StatusView:
    """A snapshot of a watch: badge, timeline with durations, elapsed time, details, URL once ready, error.

    Shared by the HTML fallback of the live display and by the ``DeploymentStatus`` widget; it is also
    what a saved notebook keeps once the watch is over.
    """

    state: WatchState

    def _timeline(self) -> list[tuple[str, str, str]]:
        marks = self.state.transitions
        rows = []
        for index, mark in enumerate(marks):
            until = marks[index + 1].at if index + 1 < len(marks) else None
            seconds = ((until or datetime.now(timezone.utc)) - mark.at).total_seconds()
            if until is None and self.state.done:
                took = ""
            else:
                took = format_duration(seconds) + ("…" if until is None else "")
            rows.append((mark.status, mark.at.astimezone(timezone.utc).strftime("%H:%M:%S"), took))
        return rows

    def _details(self) -> list[tuple[str, str]]:
        d = self.state.deployment
        if d is None:
            return []
        return [("bento", d.bento), ("revision", d.revision), ("instance type", d.instance_type or "(default)"),
                ("scaling", _scaling(d)), ("cluster", d.cluster)]

    @property
    def message(self) -> str:
        """The watch's final message, with what to run next when there is something (a timeout)."""
        hint = getattr(self.state, "hint", None)
        if hint is None:
            return self.state.message
        return f"{self.state.message.rstrip('.')}; {sentence(hint)}."

    @property
    def ttl(self) -> str:
        """What the TTL says (a warning a few minutes before, a notice after), from the labels; or ""."""
        d = self.state.deployment
        return ttl_note(d.name, d.status, d.labels, cluster=d.cluster) if d is not None else ""

    @property
    def headline(self) -> str:
        s = self.state
        verdict = f" - {self.message}" if s.done and s.message else ""
        return f"{s.name}: {s.status} ({format_duration(s.elapsed)}){verdict}"

    @safe_repr
    def __repr__(self) -> str:
        lines = [self.headline]
        lines += [f"  {status:<22} {at}  {took}" for status, at, took in self._timeline()]
        lines += [f"  {k}: {v}" for k, v in self._details()]
        d = self.state.deployment
        if d is not None and d.url and d.is_ready:
            lines.append(f"  URL: {d.url}")
        if self.state.warning:
            lines.append(f"  warning: {self.state.warning}")
        return "\n".join(lines + ([f"  {self.ttl}"] if self.ttl else []))

    @safe_repr
    def _repr_html_(self) -> str:
        s, d = self.state, self.state.deployment
        muted = "color:#6e7781;font-size:0.85em"
        head = (f'<div style="margin-bottom:4px"><b>{esc(s.name)}</b> {badge(s.status)} '
                f'<span style="{muted}">{esc(format_duration(s.elapsed))}{"" if s.done else " elapsed"}</span></div>')
        steps = " &rarr; ".join(
            f'<span title="since {esc(at)}">{esc(status)} <span style="{muted}">{esc(took)}</span></span>'
            for status, at, took in self._timeline())
        timeline = f'<div style="margin-bottom:4px">{steps}</div>' if steps else ""
        details = " &middot; ".join(f"{esc(k)}: {esc(v)}" for k, v in self._details())
        details_html = f'<div style="{muted}">{details}</div>' if details else ""
        url = (f'<div style="margin-top:4px">Endpoint: {link(d.url)}</div>'
               if d is not None and d.url and d.is_ready else "")
        colour = "#cf222e" if s.outcome in (Outcome.FAILED, Outcome.ERROR, Outcome.TIMEOUT) else "inherit"
        shown = esc(self.message) if s.done and s.message else ""
        message = f'<div style="color:{colour};margin-top:4px">{shown}</div>' if shown else ""
        warning = "".join(f'<div style="color:#9a6700">{esc(w)}</div>' for w in (s.warning, self.ttl) if w)
        return (f'<div class="bcj-status" style="line-height:1.5">{head}{timeline}{details_html}{url}'
                f'{warning}{message}</div>')
