"""``%bentocloud SUBCOMMAND ...``, ``%deploy BENTO ...`` and the ``%%deploy`` cell: parse, one verb, present.

Every subcommand is an entry of :data:`~.parsers.SUBCOMMANDS` (parser, summary, verb); the magic only fills
in what the notebook owns (the default context, the default ``--timeout``, a progress display), runs the
verb with the parsed keywords, and hands the result to :func:`~.present.present`. Settings are config
traits: ``%config BentoCloudMagics.poll_interval = 2``. Every error of ours ends in one line (IPython's
``UsageError``, worded for the magics), never a traceback, and never shows a token. Loading stays light:
the core is imported by the first command that needs it.
"""

from __future__ import annotations

import importlib
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from traitlets import Bool, Float, TraitError, Unicode, observe, validate
from traitlets.config import Configurable

from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.ipython import words as _wording  # noqa: F401  (registers the magics' wording of hints)
from bentocloud_jupyter.ipython.parsers import (
    CELL_DEPLOY,
    DEPLOY,
    SUBCOMMANDS,
    HelpRequested,
    Subcommand,
    help_text,
    split_line,
)

__all__ = ["BentoCloudMagics"]

# their context is what to save into / remove / protect, not whom to ask
_OWN_CONTEXT = {"frontend.login", "api.logout", "api.protect", "api.unprotect"}
_VERB_MODULES = {"api": "bentocloud_jupyter.core.api", "frontend": "bentocloud_jupyter.ipython.frontend"}


@magics_class
class BentoCloudMagics(Magics, Configurable):
    """BentoCloud from the notebook. Run `%bentocloud help`."""

    poll_interval = Float(5.0, help="Seconds between status polls once a deployment is steady.").tag(config=True)
    timeout = Float(60.0, help="HTTP timeout in seconds for each BentoCloud request.").tag(config=True)
    watch_timeout = Float(3600.0, help="Default --timeout (seconds) of commands that watch or --wait.").tag(
        config=True)
    context = Unicode(None, allow_none=True, help="Context used when --context is not given.").tag(config=True)
    widgets = Bool(True, help="Show panels as widgets where the front end renders them.").tag(config=True)
    banner = Bool(True, help="Start every output that changes something with a line naming the context.").tag(
        config=True)

    _applied: tuple[float, float] | None = None  # set before traitlets' config observers may run

    @validate("poll_interval", "timeout", "watch_timeout")
    def _check_seconds(self, proposal: Any) -> float:
        """A bad ``%config`` value is refused in one line and the setting keeps its old value."""
        from bentocloud_jupyter.core.rest.durations import check_duration

        try:
            return check_duration(proposal["value"], proposal["trait"].name)
        except BentoCloudError as exc:
            raise TraitError(exc.words("magic")) from None

    @observe("poll_interval", "timeout")
    def _settings_changed(self, change: Any) -> None:
        self._apply_settings()

    @line_magic
    def bentocloud(self, line: str) -> Any:
        """BentoCloud from the notebook: `%bentocloud help` lists the subcommands."""
        words = self._split(line)
        if not words or words[0] in ("help", "-h", "--help"):
            return Message(help_text())
        if words[0] not in SUBCOMMANDS:
            raise UsageError(f"Unknown subcommand {words[0]!r}; run `%bentocloud help` for the list.")
        return self._run(SUBCOMMANDS[words[0]], words[1:])

    @line_magic
    def deploy(self, line: str) -> Any:
        """Deploy a bento from BentoCloud: `%deploy BENTO -n NAME [options]` (see `%deploy --help`)."""
        return self._run(DEPLOY, self._split(line))

    @cell_magic("deploy")  # type: ignore[arg-type]  # IPython types the named form loosely
    def deploy_cell(self, line: str, cell: str) -> Any:
        """`%%deploy [NAME] [--dry-run] [--wait]`: the cell body is the deployment config in YAML.

        Running the cell creates the deployment, or shows what changes (current vs new, field by field) and
        replaces its configuration; running it again applies it again (nothing sent when nothing changed).
        """
        return self._run(CELL_DEPLOY, self._split(line), body=cell)

    @cell_magic("bentocloud")  # type: ignore[arg-type]
    def bentocloud_cell(self, line: str, cell: str) -> Any:
        """`%%bentocloud write FILE`: write the cell to FILE in the attached codespace's project and sync it."""
        words = self._split(line)
        if not words or words[0] != "write":
            raise UsageError("As a cell magic, %%bentocloud only writes files: `%%bentocloud write FILE`.")
        from bentocloud_jupyter.ipython.code_frontend import write_cell

        try:
            self._announce_write()
            return write_cell(words[1:], cell)
        except BentoCloudError as exc:
            raise UsageError(exc.words("magic")) from None

    def _announce_write(self) -> None:
        """A write synced to a codespace changes it: the banner names the codespace's context first."""
        from bentocloud_jupyter.core.codespaces.handle import attached

        codespace = attached()
        if self.banner and codespace is not None:
            from bentocloud_jupyter.ipython.banner import announce_context

            announce_context(codespace.state.context)

    def _split(self, line: str) -> list[str]:
        try:
            return split_line(line)
        except BentoCloudError as exc:
            raise UsageError(exc.words("magic")) from None

    def _run(self, command: Subcommand, words: list[str], body: str | None = None) -> Any:
        """Parse, run the one verb, present; our errors become one magic-worded line."""
        try:
            kwargs = vars(command.parser.parse_args(words))
        except HelpRequested as shown:
            return Message(shown.text)
        try:
            if body is not None:
                kwargs["config_dict"] = self._cell_config(body, kwargs.get("name"))
            self._apply_settings()
            verb, filled = self._verb(command), self._fill(command, kwargs, words)
            if self.banner:
                from bentocloud_jupyter.ipython.banner import announce

                announce(command, filled)
            return self._call(verb, filled)
        except BentoCloudError as exc:
            raise UsageError(exc.words("magic")) from None

    def _call(self, verb: Any, kwargs: dict[str, Any]) -> Any:
        """Run the verb and present its result; a protected context's question becomes a text field."""
        from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
        from bentocloud_jupyter.ipython.present import present

        try:
            result = verb(**kwargs)
        except ConfirmationNeeded as needed:
            if not self._widgets_render() or "confirm" not in kwargs:
                raise
            from bentocloud_jupyter.ipython.confirm_frontend import ask_typed_name

            return ask_typed_name(needed, lambda typed: self._call(verb, {**kwargs, "confirm": typed}))
        self._show_changes(result)
        return present(result, use_widgets=self.widgets)

    def _cell_config(self, body: str, name: str | None) -> dict[str, Any]:
        """The ``%%deploy`` body as a config mapping; it must name the deployment, so a re-run updates it."""
        from bentocloud_jupyter.core.deployments.bento_args import load_config_text

        config = load_config_text(body)
        if not name and not config.get("name"):
            raise UsageError("%%deploy: name the deployment (`%%deploy NAME`, or name: in the cell), so that "
                             "running the cell again updates it instead of creating another")
        return config

    def _show_changes(self, result: Any) -> None:
        """A change that is followed live shows its plan (current vs new) above the live status."""
        changes = getattr(result, "changes", None)
        if changes is not None and getattr(result, "follow", None) is not None:
            from IPython.display import display

            display(changes)

    def _verb(self, command: Subcommand) -> Any:
        room, _, name = command.verb.partition(".")
        return getattr(importlib.import_module(_VERB_MODULES[room]), name)

    def _fill(self, command: Subcommand, kwargs: dict[str, Any], words: list[str]) -> dict[str, Any]:
        """What the notebook owns: default context and --timeout, a progress display, the widgets choice."""
        if "context" in kwargs and not kwargs["context"] and command.verb not in _OWN_CONTEXT:
            kwargs["context"] = self.context or None
        if "wait" in kwargs and not any(w == "--timeout" or w.startswith("--timeout=") for w in words):
            kwargs["timeout"] = self.watch_timeout
        if command.verb.startswith("frontend."):
            kwargs["widgets"] = self._widgets_render()
        if "progress" in command.inject:
            kwargs["progress"] = self._progress_factory()
        return kwargs

    def _widgets_render(self) -> bool:
        from bentocloud_jupyter.ipython.present import widgets_enabled

        return bool(self.widgets) and widgets_enabled()

    def _progress_factory(self) -> Any:
        """A transfer display made when a transfer starts: a widget where widgets render, else a text line."""
        if not self._widgets_render():
            return None

        def factory() -> Any:
            from IPython.display import display

            from bentocloud_jupyter.widgets import TransferProgress

            panel = TransferProgress()
            display(panel)
            return panel

        return factory

    def _apply_settings(self) -> None:
        """Hand the traits to the core once they changed (the core is imported here, not at load)."""
        wanted = (float(self.timeout), float(self.poll_interval))
        if self._applied != wanted:
            from bentocloud_jupyter.core import api

            api.configure(timeout=wanted[0], poll_interval=wanted[1])
            self._applied = wanted
