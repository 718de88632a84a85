"""What ``session`` and ``teardown`` return: a table (the project's one :class:`TableView`) and notes.

Why notes under the table: a deployment that outlived its TTL must say, in the same output, the one
command that stops it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.messages import safe_repr
from bentocloud_jupyter.core.results import TableView

__all__ = ["SessionView", "Teardown", "TeardownStep"]


@dataclass(frozen=True)
class SessionView:
    """What this kernel (or, with ``--all``, any of ours) started, with live status; flags underneath."""

    table: TableView
    notes: tuple[str, ...] = ()

    @safe_repr
    def __repr__(self) -> str:
        return "\n".join([repr(self.table), *self.notes])

    @safe_repr
    def _repr_html_(self) -> str:
        notes = "".join(f"<div style=\"color: #b45309\">{esc(note)}</div>" for note in self.notes)
        return f"<div>{self.table._repr_html_()}{notes}</div>"


@dataclass(frozen=True)
class TeardownStep:
    """One thing teardown terminates, deletes or leaves (and, once done, how it went)."""

    name: str
    cluster: str
    kind: str
    status: str
    action: str  # "terminate", "delete" or "skip"
    outcome: str = ""


@dataclass(frozen=True)
class Teardown:
    """The plan (``done`` False: nothing sent) or what teardown did."""

    context: str
    steps: Sequence[TeardownStep]
    delete: bool = False
    done: bool = False
    protected: bool = False
    elsewhere: str = ""  # ", but it did in context 'b' (...)": where else this kernel left something

    @property
    def todo(self) -> list[TeardownStep]:
        """The steps that send something."""
        return [step for step in self.steps if step.action != "skip"]

    def _rerun(self) -> str:
        """The command that does this plan: in this plan's context (not whichever is current when it runs)."""
        flags = " --delete" if self.delete else ""
        quoted = shlex.quote(self.context)
        confirm = f" --confirm {quoted}" if self.protected else ""
        return f"%bentocloud teardown{flags} --yes --context {quoted}{confirm}"

    def _table(self) -> TableView:
        headers = ["name", "kind", "cluster", "status", "done" if self.done else "will"]
        rows = [[s.name, s.kind, s.cluster, s.status, (s.outcome or s.action) if self.done or s.action == "skip"
                 else s.action] for s in self.steps]
        return TableView(headers, rows)

    def headline(self) -> str:
        """The one line above the table (or the whole answer when there is nothing to do)."""
        ctx = repr(self.context)
        if not self.todo and not self.done:
            return f"Nothing to tear down: this kernel left nothing running in context {ctx}{self.elsewhere}."
        if self.done:
            return f"Teardown in context {ctx}: {len(self.todo)} {'deleted' if self.delete else 'terminated'}."
        verb = "delete" if self.delete else "terminate"
        return f"Teardown plan in context {ctx}: {verb} {len(self.todo)}; nothing sent yet."

    def footer(self) -> str:
        """What to run to do the plan."""
        return "" if self.done or not self.todo else f"To do it: {self._rerun()}"

    @safe_repr
    def __repr__(self) -> str:
        if not self.todo and not self.done:
            return self.headline()
        return "\n".join(filter(None, [self.headline(), repr(self._table()), self.footer()]))

    @safe_repr
    def _repr_html_(self) -> str:
        if not self.todo and not self.done:
            return f"<div>{esc(self.headline())}</div>"
        footer = f"<div><code>{esc(self._rerun())}</code></div>" if self.footer() else ""
        return f"<div><b>{esc(self.headline())}</b>{self._table()._repr_html_()}{footer}</div>"
