"""The few commands that belong to the notebook rather than the core: hidden prompts, confirmations,
the in-kernel sandbox, stopping live displays, and secrets' prompts and a new token's reveal
(:mod:`.org_frontend`). Each takes its parser's keywords, like a core verb."""

from __future__ import annotations

import getpass
import warnings
from typing import Any

from IPython.core.error import StdinNotImplementedError

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.core.tokens import Token, sendable_token
from bentocloud_jupyter.ipython.org_frontend import api_token, secret

__all__ = ["api_token", "delete", "login", "sandbox", "secret", "teardown", "unwatch"]

LOGIN_LINE_NOTICE = (
    "The token you typed is now stored in this notebook and in the IPython history. "
    "Next time run `%bentocloud login` without --api-token to be prompted for it.")


def login(endpoint: str, context: str | None, api_token: str | Token | None, browser: bool, timeout: float,
          insecure: bool, *, widgets: bool) -> Any:
    """A token from the line (with a warning), the browser flow, the login panel, or a hidden prompt.

    The token is a :class:`Token` from the moment it is read, so that no frame of a verbose traceback holds it.
    """
    from bentocloud_jupyter.core import api

    if api_token:
        token = sendable_token(api_token)
        warnings.warn(LOGIN_LINE_NOTICE, stacklevel=1)
    elif browser:
        token = sendable_token(_browser_token(endpoint, timeout, insecure))
    elif widgets:
        from bentocloud_jupyter.widgets import LoginPanel

        return LoginPanel(endpoint=endpoint, context=context)
    else:
        token = _prompt_token()
    return api.login(endpoint, token, context, insecure, timeout)


def _prompt_token() -> Token:
    try:
        token = Token(getpass.getpass("BentoCloud API token (hidden): ").strip())
    except (StdinNotImplementedError, EOFError):
        raise InvalidInputError("No way to ask for the token here: pass --browser, or set BENTO_CLOUD_API_KEY.") \
            from None
    if not token:
        raise InvalidInputError("No token entered; nothing was saved.")
    return sendable_token(token)


def _browser_token(endpoint: str, timeout: float, insecure: bool) -> Token:
    from IPython.display import HTML, display

    from bentocloud_jupyter.core.credentials import auth
    from bentocloud_jupyter.core.display import esc, link
    from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, check_duration

    timeout = check_duration(timeout, maximum=MAX_REQUEST_TIMEOUT)
    flow = auth.start_browser_login(endpoint, insecure=insecure)
    display(HTML(f"<div>Open {link(flow.url)} and approve the new token (waiting "
                 f"{esc(int(timeout * 10))} s; interrupt the kernel to cancel).</div>"), raw=False)
    print(f"Open {flow.url} and approve the new token.")
    try:
        return flow.wait(timeout=timeout * 10)
    except KeyboardInterrupt:
        raise InvalidInputError("Browser login cancelled; nothing was saved.") from None


def delete(name: str, cluster: str | None, yes: bool, context: str | None, confirm: str | None = None, *,
           widgets: bool) -> Any:
    """Delete after a yes at the prompt (or with ``--yes``; a name typed back with ``--confirm`` is a yes)."""
    from bentocloud_jupyter.core import api

    if not yes and confirm is None and not _confirm(f"Delete deployment {name!r} for good? [y/N] "):
        return Message(f"Not deleted. Add --yes to delete {name!r} without this question.")
    return api.delete(name, cluster, context, confirm)


def teardown(delete: bool, yes: bool, confirm: str | None, context: str | None, *, widgets: bool) -> Any:
    """Show the plan and ask one y/N question (``--yes``, or the context's name typed back, skips it); then
    terminate (or delete) what this kernel started."""
    from IPython.display import display

    from bentocloud_jupyter.core.api.session import teardown as run_teardown

    if yes or confirm is not None:
        return run_teardown(delete, True, confirm, context)
    plan = run_teardown(delete, False, None, context)
    if not plan.todo:
        return plan
    display(plan)
    verb = "Delete" if delete else "Terminate"
    if not _confirm(f"{verb} these {len(plan.todo)}? [y/N] "):
        return Message("Nothing sent. Add --yes to tear down without this question.")
    return run_teardown(delete, True, confirm, context)


def _confirm(question: str) -> bool:
    try:
        return input(question).strip().lower() in ("y", "yes")
    except (StdinNotImplementedError, EOFError):
        return False


def sandbox(port: int, speed: float, stop: bool, *, widgets: bool) -> Message:
    """Start the sandbox in this kernel, or stop it (and everything following it)."""
    from bentocloud_jupyter.core.api import sandbox as local_sandbox

    if stop:
        unwatch(None, True, widgets=widgets)
        return local_sandbox.stop_sandbox()
    return local_sandbox.start_sandbox(port, speed)


def unwatch(name: str | None, all: bool, *, widgets: bool) -> Message:
    """Stop live status displays and log streams (of ``name``, or all of them)."""
    from bentocloud_jupyter.core.api import following
    from bentocloud_jupyter.core.logs.follow import stop_following

    watched = set(following.watched())
    result = following.unwatch(name, all)
    followed = stop_following(name, all)
    if not followed:
        return result
    note = f"Stopped following the logs of {', '.join(repr(n) for n in followed)}."
    stopped_status = bool(watched) if all or name is None else name in watched
    return Message(f"{result.text} {note}" if stopped_status else note)
