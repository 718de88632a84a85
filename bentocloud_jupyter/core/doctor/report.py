"""The doctor's lines and the report that shows them: plain text, escaped HTML, never a token.

Why a report of plain lines: the same result reads right in a notebook, in a terminal and in a log, and a
test can read it without a front end.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bentocloud_jupyter.core.display import esc, html_table
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    BentoCloudError,
    ProtocolError,
    RateLimitError,
    ServerError,
    TransportError,
)
from bentocloud_jupyter.core.hints import Hint, sentence
from bentocloud_jupyter.core.messages import safe_repr
from bentocloud_jupyter.core.tokens import redact

__all__ = ["LEVELS", "Check", "DoctorReport", "Level", "fail", "failed", "ok", "one_line", "reason", "safely",
           "todo_for", "warn"]

Level = Literal["ok", "warn", "fail"]
LEVELS: tuple[Level, ...] = ("ok", "warn", "fail")
MAX_FOUND = 400
"""Characters of one line's text at most (a hostile server may send a name of megabytes)."""
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_COLOURS = {"ok": "#1a7f37", "warn": "#9a6700", "fail": "#cf222e"}


@dataclass(frozen=True)
class Check:
    """One line: which check, how it went, what was found, and what to do when it is not ok."""

    name: str
    level: Level
    found: str
    todo: str = ""
    hint: Hint | None = None

    def __post_init__(self) -> None:
        """Redacted on the way in: a server that echoes the token into a name cannot reach any display."""
        for name in ("name", "found", "todo"):
            object.__setattr__(self, name, one_line(getattr(self, name)))

    @property
    def advice(self) -> str:
        """What to do, the hint worded for every loaded front end; "" for an ok line without advice."""
        return "; ".join(part for part in (self.todo, sentence(self.hint)) if part)


def one_line(value: object) -> str:
    """Token-free, on one line, of a readable length: whatever a server or an exception put in it."""
    text = " ".join(_CONTROL.sub(" ", redact(str(value))).split())
    return text if len(text) <= MAX_FOUND else text[:MAX_FOUND - 3] + "..."


def ok(name: str, found: str) -> Check:
    return Check(name, "ok", found)


def warn(name: str, found: str, todo: str = "", hint: Hint | None = None) -> Check:
    return Check(name, "warn", found, todo, hint)


def fail(name: str, found: str, todo: str = "", hint: Hint | None = None) -> Check:
    return Check(name, "fail", found, todo, hint)


def reason(exc: BaseException) -> str:
    """What went wrong, in one token-free line: our errors' message; anything else only by its kind."""
    if isinstance(exc, BentoCloudError):
        return exc.message
    return f"the check itself broke ({type(exc).__name__})"


_TODO: tuple[tuple[type[BentoCloudError], str], ...] = (
    (AuthenticationError, "log in again with a token that has access"),
    (RateLimitError, "wait a minute, then run the doctor again"),
    (ServerError, "try again later; if it lasts, check BentoCloud's status"),
    (ProtocolError, "check that the endpoint is BentoCloud's (log in again with the right URL) and that "
                    "bentocloud-jupyter is up to date"),
    (TransportError, "check your network, proxy and the endpoint URL, then run the doctor again"),
    (APIError, "check the token's permissions (API tokens page), then run the doctor again"),
)


def todo_for(exc: BaseException) -> str:
    """What to do about an error that carries no hint: the doctor's "what to do" column is never empty."""
    if isinstance(exc, APIError) and exc.status is not None and 300 <= exc.status < 400:
        return "check the endpoint URL: it redirects elsewhere (log in again with the final URL, if you trust it)"
    for kind, todo in _TODO:
        if isinstance(exc, kind):
            return todo
    if isinstance(exc, BentoCloudError):
        return "fix what the line says, then run the doctor again"
    return "please report this to bentocloud-jupyter; the other lines are still valid"


def failed(name: str, exc: BaseException) -> Check:
    """A check that raised: our errors keep their message and hint; anything else is named, never traced."""
    if isinstance(exc, BentoCloudError):
        return fail(name, exc.message, "" if exc.hint is not None else todo_for(exc), exc.hint)
    return fail(name, reason(exc), todo_for(exc))


def safely(name: str, check: Callable[[], Check | Sequence[Check]]) -> list[Check]:
    """Run one check; whatever it raises becomes its ``fail`` line, so the report always completes."""
    try:
        result = check()
    except Exception as exc:
        return [failed(name, exc)]
    return [result] if isinstance(result, Check) else list(result)


@dataclass(frozen=True)
class DoctorReport:
    """Every check's line, in order; shows itself as text and as escaped HTML."""

    checks: tuple[Check, ...]
    context: str = ""

    @classmethod
    def of(cls, checks: Iterable[Check], context: str = "") -> DoctorReport:
        return cls(tuple(checks), context)

    def count(self, level: Level) -> int:
        return sum(1 for check in self.checks if check.level == level)

    @property
    def healthy(self) -> bool:
        """True when no line failed (warnings allowed)."""
        return self.count("fail") == 0

    def by_name(self, name: str) -> list[Check]:
        return [check for check in self.checks if check.name == name]

    @property
    def summary(self) -> str:
        where = f" for {self.context}" if self.context else ""
        counts = ", ".join(f"{self.count(level)} {level}" for level in LEVELS)
        return f"bentocloud doctor{where}: {counts}"

    @safe_repr
    def __repr__(self) -> str:
        width = max((len(check.name) for check in self.checks), default=0)
        lines = [self.summary]
        for check in self.checks:
            advice = f" -> {check.advice}" if check.advice else ""
            lines.append(f"{check.level:<4}  {check.name:<{width}}  {check.found}{advice}")
        return redact("\n".join(lines))

    @safe_repr
    def _repr_html_(self) -> str:
        rows = [[_pill(check.level), redact(check.name), redact(check.found), redact(check.advice)]
                for check in self.checks]
        return (f"<div><b>{esc(redact(self.summary))}</b></div>"
                + html_table(["", "check", "found", "what to do"], rows, raw_columns=[0]))


def _pill(level: Level) -> str:
    colour = _COLOURS.get(level, "#6e7781")
    return f'<span style="color:{colour};font-weight:bold">{esc(level)}</span>'
