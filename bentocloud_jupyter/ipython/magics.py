"""``%bentocloud SUBCOMMAND ...`` and ``%deploy BENTO ...``: parse, one call into the core API, show.

Settings are config traits: ``%config BentoCloudMagics.poll_interval = 2``. Every error of ours ends in
one line (IPython's ``UsageError``), never a traceback, and never shows a token.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from traitlets import Bool, Float, Unicode, observe
from traitlets.config import Configurable

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.api import sandbox as local_sandbox
from bentocloud_jupyter.core.credentials import auth
from bentocloud_jupyter.core.deployments.watch import Goal
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError
from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.results import DeploymentView, Message
from bentocloud_jupyter.ipython import present as live
from bentocloud_jupyter.ipython.parsers import DEPLOY_PARSER, SUBCOMMANDS, HelpRequested, help_text, split_line

__all__ = ["BentoCloudMagics"]

LOGIN_LINE_NOTICE = (
    "The token you typed is now stored in this notebook and in the IPython history. "
    "Next time run `%bentocloud login` without --api-token to be prompted for it.")


@magics_class
class BentoCloudMagics(Magics, Configurable):
    """BentoCloud from the notebook. Run `%bentocloud help`."""

    poll_interval = Float(5.0, help="Seconds between status polls once a deployment is steady.").tag(config=True)
    timeout = Float(60.0, help="HTTP timeout in seconds for each BentoCloud request.").tag(config=True)
    watch_timeout = Float(3600.0, help="Default seconds to wait for a deployment (--wait).").tag(config=True)
    context = Unicode(None, allow_none=True, help="Context used when --context is not given.").tag(config=True)
    widgets = Bool(True, help="Show panels as widgets where the front end renders them.").tag(config=True)

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self._apply_settings()

    @observe("poll_interval", "timeout")
    def _settings_changed(self, change: Any) -> None:
        self._apply_settings()

    def _apply_settings(self) -> None:
        session.settings.poll_interval = self.poll_interval
        if session.settings.timeout != self.timeout:
            session.settings.timeout = self.timeout
            session.close_all()  # new clients pick up the new timeout

    # ------------------------------------------------------------------------------------------ entry

    @line_magic
    def bentocloud(self, line: str) -> Any:
        """BentoCloud from the notebook: `%bentocloud help` lists the subcommands."""
        words = self._split(line)
        if not words or words[0] in ("help", "-h", "--help"):
            return Message(help_text())
        name, rest = words[0], words[1:]
        if name not in SUBCOMMANDS:
            raise UsageError(f"Unknown subcommand {name!r}; run `%bentocloud help` for the list.")
        parser, _ = SUBCOMMANDS[name]
        return self._run(lambda: self._dispatch(name, self._parse(parser, rest)))

    @line_magic
    def deploy(self, line: str) -> Any:
        """Deploy a bento from BentoCloud: `%deploy BENTO -n NAME [options]` (see `%deploy --help`)."""
        words = self._split(line)
        return self._run(lambda: self._deploy(self._parse(DEPLOY_PARSER, words)))

    # ---------------------------------------------------------------------------------------- plumbing

    def _split(self, line: str) -> list[str]:
        try:
            return split_line(line)
        except InvalidInputError as exc:
            raise UsageError(str(exc)) from None

    def _parse(self, parser: argparse.ArgumentParser, words: list[str]) -> argparse.Namespace:
        try:
            return parser.parse_args(words)
        except HelpRequested as shown:
            raise _Help(shown.text) from None

    def _run(self, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except _Help as shown:
            return Message(shown.text)
        except BentoCloudError as exc:
            raise UsageError(str(exc)) from None

    def _ctx(self, args: argparse.Namespace) -> str | None:
        return getattr(args, "context", None) or self.context or None

    def _dispatch(self, name: str, args: argparse.Namespace) -> Any:
        handler = getattr(self, "_do_" + name.replace("-", "_"))
        return handler(args)

    # ------------------------------------------------------------------------------------- subcommands

    def _do_login(self, args: argparse.Namespace) -> Any:
        token = args.api_token
        if token:
            warnings.warn(LOGIN_LINE_NOTICE, stacklevel=1)
        elif args.browser:
            token = self._browser_token(args)
        elif self.widgets and live.widgets_enabled():
            from bentocloud_jupyter.widgets import LoginPanel

            return LoginPanel(endpoint=args.endpoint, context=args.context)
        else:
            token = self._prompt_token()
        return api.login(args.endpoint, token, args.context, args.insecure, args.timeout)

    def _prompt_token(self) -> str:
        try:
            token = getpass.getpass("BentoCloud API token (hidden): ")
        except (StdinNotImplementedError, EOFError):
            raise InvalidInputError("No way to ask for the token here: pass --browser, or set BENTO_CLOUD_API_KEY.")\
                from None
        if not token.strip():
            raise InvalidInputError("No token entered; nothing was saved.")
        return token.strip()

    def _browser_token(self, args: argparse.Namespace) -> str:
        from IPython.display import HTML, display

        from bentocloud_jupyter.core.display import esc, link

        flow = auth.start_browser_login(args.endpoint, insecure=args.insecure)
        display(HTML(f"<div>Open {link(flow.url)} and approve the new token (waiting "
                     f"{esc(int(args.timeout * 10))} s; interrupt the kernel to cancel).</div>"),
                raw=False)
        print(f"Open {flow.url} and approve the new token.")
        try:
            return flow.wait(timeout=args.timeout * 10).reveal()
        except KeyboardInterrupt:
            raise InvalidInputError("Browser login cancelled; nothing was saved.") from None

    def _do_logout(self, args: argparse.Namespace) -> Any:
        return api.logout(args.context)

    def _do_contexts(self, args: argparse.Namespace) -> Any:
        if self.widgets and live.widgets_enabled():
            from bentocloud_jupyter.widgets import ContextPicker

            return ContextPicker()
        return api.contexts()

    def _do_use(self, args: argparse.Namespace) -> Any:
        return api.use_context(args.name)

    def _do_whoami(self, args: argparse.Namespace) -> Any:
        return api.whoami(self._ctx(args))

    def _do_deployments(self, args: argparse.Namespace) -> Any:
        if args.output == "table" and self.widgets and live.widgets_enabled() and not (args.search or args.labels):
            from bentocloud_jupyter.widgets import DeploymentsPanel

            return DeploymentsPanel(context=self._ctx(args))
        return api.list_deployments(args.cluster, args.all, args.search, args.labels or (), args.output,
                                    self._ctx(args))

    def _do_get(self, args: argparse.Namespace) -> Any:
        return api.get(args.name, args.cluster, args.output, self._ctx(args))

    def _do_status(self, args: argparse.Namespace) -> Any:
        if args.wait:
            return api.status(args.name, args.cluster, True, args.timeout, self._ctx(args))
        api.get(args.name, args.cluster, "table", self._ctx(args))  # fail fast on an unknown name
        return live.show_status(args.name, context=self._ctx(args), cluster=args.cluster, goal=Goal.SETTLED,
                                timeout=args.timeout, use_widgets=self.widgets)

    def _do_update(self, args: argparse.Namespace) -> Any:
        result = api.update(**self._deploy_kwargs(args), name=args.name, bento=args.bento)
        if not isinstance(result, DeploymentView) or args.wait:
            return result
        return live.show_status(args.name, context=self._ctx(args), cluster=result.deployment.cluster,
                                goal=Goal.READY, previous_revision=result.previous_revision, timeout=args.timeout,
                                use_widgets=self.widgets)

    def _do_terminate(self, args: argparse.Namespace) -> Any:
        result = api.terminate(args.name, args.cluster, args.wait, args.timeout, self._ctx(args))
        if args.wait:
            return result
        return live.show_status(args.name, context=self._ctx(args), cluster=args.cluster, goal=Goal.TERMINATED,
                                timeout=args.timeout, use_widgets=self.widgets)

    def _do_delete(self, args: argparse.Namespace) -> Any:
        if not args.yes and not self._confirm(f"Delete deployment {args.name!r} for good? [y/N] "):
            return Message(f"Not deleted. Add --yes to delete {args.name!r} without this question.")
        return api.delete(args.name, args.cluster, self._ctx(args))

    def _confirm(self, question: str) -> bool:
        try:
            return input(question).strip().lower() in ("y", "yes")
        except (StdinNotImplementedError, EOFError):
            return False

    def _do_instance_types(self, args: argparse.Namespace) -> Any:
        return api.instance_types(args.cluster, self._ctx(args))

    def _do_clusters(self, args: argparse.Namespace) -> Any:
        return api.clusters(self._ctx(args))

    def _do_push(self, args: argparse.Namespace) -> Any:
        with self._transfer_progress():
            return api.push(args.tag, args.force, self._ctx(args))

    def _do_pull(self, args: argparse.Namespace) -> Any:
        with self._transfer_progress():
            return api.pull(args.tag, args.output, args.force, self._ctx(args))

    @contextlib.contextmanager
    def _transfer_progress(self) -> Iterator[None]:
        """Progress bars (a widget where widgets render, else a text line) for this one transfer."""
        if not (self.widgets and live.widgets_enabled()):
            yield
            return
        from IPython.display import display

        from bentocloud_jupyter.widgets import TransferProgress

        def factory() -> Any:
            panel = TransferProgress()
            display(panel)
            return panel

        previous, session.settings.progress = session.settings.progress, factory
        try:
            yield
        finally:
            session.settings.progress = previous

    def _do_bentos(self, args: argparse.Namespace) -> Any:
        return api.bentos(self._ctx(args))

    def _do_models(self, args: argparse.Namespace) -> Any:
        return api.models(self._ctx(args))

    def _do_sandbox(self, args: argparse.Namespace) -> Any:
        if args.stop:
            live.unwatch(all=True)
            logfollow.stop_following(all=True)
            return local_sandbox.stop_sandbox()
        return local_sandbox.start_sandbox(args.port, args.speed)

    def _do_unwatch(self, args: argparse.Namespace) -> Any:
        """Stop live status displays and log streams (of ``name``, or all of them)."""
        watched = set(live.watched())
        result = live.unwatch(args.name, args.all)
        followed = logfollow.stop_following(args.name, args.all)
        if not followed:
            return result
        note = f"Stopped following the logs of {', '.join(repr(n) for n in followed)}."
        stopped_status = bool(watched) if args.all or args.name is None else args.name in watched
        return Message(f"{result.text} {note}" if stopped_status else note)

    def _do_logs(self, args: argparse.Namespace) -> Any:
        result = api.logs(args.name, args.follow, args.tail, args.cluster, self._ctx(args))
        if not isinstance(result, logfollow.LogFollower):
            return result
        from bentocloud_jupyter.widgets.logview import present

        return present(result, use_widgets=self.widgets and live.widgets_enabled())

    def _do_call(self, args: argparse.Namespace) -> Any:
        return api.call(args.name, args.api_name, args.json, args.file, self._ctx(args))

    # ----------------------------------------------------------------------------------------- deploy

    def _deploy_kwargs(self, args: argparse.Namespace) -> dict[str, Any]:
        return dict(cluster=args.cluster, access_authorization=args.access_authorization,
                    scaling_min=args.scaling_min, scaling_max=args.scaling_max, instance_type=args.instance_type,
                    strategy=args.strategy, labels=args.labels or (), envs=args.envs or (),
                    secrets=args.secrets or (), config_file=args.config_file, config_dict=args.config_dict,
                    wait=args.wait, timeout=args.timeout, dry_run=args.dry_run, context=self._ctx(args))

    def _deploy(self, args: argparse.Namespace) -> Any:
        if args.bento is None and not (args.config_file or args.config_dict):
            raise InvalidInputError("Which bento? `%deploy summarizer:v3 -n my-deployment` (see %deploy --help).")
        started = time.monotonic()
        result = api.deploy(args.bento, args.name, **self._deploy_kwargs(args))
        if not isinstance(result, DeploymentView) or args.wait:
            return result
        return live.show_status(result.deployment.name, context=self._ctx(args), cluster=result.deployment.cluster,
                                goal=Goal.READY, timeout=max(args.timeout - (time.monotonic() - started), 1.0),
                                use_widgets=self.widgets)


class _Help(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text
