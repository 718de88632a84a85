"""Verbs over API tokens, as ``bentoml api-token list|create|get|delete``; a new token is never printed.

A created token goes where it is asked to before the verb returns: ``save_as`` validates it and saves
it as a context (:func:`~..credentials.auth.login`), ``output_file`` writes it to a new ``0600`` file.
When that step fails the new token is revoked at once, so no token exists that nobody holds. With
neither, the result holds it (masked) for a Python caller; the notebook shows it once in a widget.
Scopes and the expiry are checked before anything is sent; ``expired_at`` always carries a time zone.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bentocloud_jupyter.core.credentials.safefile import atomic_write, check_writable
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.messages import Message, TextOutput
from bentocloud_jupyter.core.org_views import ApiTokensView, ApiTokenView, NewTokenView, summaries_text, token_summary
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.endpoints import Pager
from bentocloud_jupyter.core.rest.org_endpoints import api_token_body
from bentocloud_jupyter.core.rest.org_models import ApiTokenDetails, NewApiToken
from bentocloud_jupyter.core.rest.session import client_for

__all__ = ["SCOPES", "api_tokens", "create_api_token", "delete_api_token", "get_api_token", "parse_expiry"]

SCOPES = ("api", "read_organization", "write_organization", "read_cluster", "write_cluster")
"""The scopes ``bentoml api-token create --scope`` offers."""
_DURATION = re.compile(r"\s*(\d{1,6})\s*([hdw])\s*", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_expiry(value: str | datetime | None, now: datetime | None = None) -> datetime | None:
    """``30d``, ``1w``, ``24h``, an ISO date or time (local time unless it says otherwise), as an aware time.

    Raises:
        InvalidInputError: unreadable, or not in the future.
    """
    if value is None or value == "":
        return None
    now = now or datetime.now(timezone.utc)
    try:
        when = value if isinstance(value, datetime) else _read_expiry(str(value), now)
        when = when if when.tzinfo else when.astimezone()  # a naive time is the user's local time, as in bentoml
    except InvalidInputError:
        raise
    except (OverflowError, ValueError):  # 999999w, year 1 in local time: past the calendar's ends
        raise InvalidInputError(f"--expires {value!s} is out of the calendar's range; give e.g. 30d or "
                                "2030-12-31. Nothing was sent.") from None
    if when <= now:
        raise InvalidInputError(f"--expires {value!s} is not in the future. Nothing was sent.")
    return when


def _read_expiry(text: str, now: datetime) -> datetime:
    match = _DURATION.fullmatch(text)
    if match:
        return now + timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or len(text.strip()) < 10:
        raise InvalidInputError(f"--expires {text!r} is not a duration (30d, 1w, 24h) or a date (2030-12-31). "
                                "Nothing was sent.")
    return datetime.combine(parsed, datetime.min.time()) if type(parsed) is date else parsed


def check_scopes(scopes: Sequence[str] | None) -> list[str] | None:
    """The scopes to ask for (None: BentoCloud's default), once each is one of :data:`SCOPES`."""
    if not scopes:
        return None
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise InvalidInputError(f"Unknown scope {unknown[0]!r}; the scopes are {', '.join(SCOPES)}. Nothing was sent.")
    return list(dict.fromkeys(scopes))


def all_tokens(client: BentoCloudClient, search: str | None = None) -> list[ApiTokenDetails]:
    pager, found = Pager(), []
    while not pager.done:
        found += pager.take(client.list_api_tokens(search, pager.start, 100), lambda t: t.uid or t.name)
    return found


def api_tokens(search: str | None = None, output: str = "table",
               context: str | None = None) -> ApiTokensView | TextOutput:
    """The organisation's API tokens: name, scopes, expiry, last use (never a token)."""
    client, _ = client_for(context)
    found = all_tokens(client, search)
    if output in ("json", "yaml"):
        return summaries_text([token_summary(t) for t in found], output)
    return ApiTokensView(found, "No API tokens match." if search else "No API tokens.")


def find_token(client: BentoCloudClient, token: str) -> ApiTokenDetails:
    """A token by uid (as bentoml takes it) or by its name when that names exactly one."""
    try:
        return client.get_api_token(token)
    except NotFoundError:
        pass
    named = [t for t in all_tokens(client, token) if t.name == token]
    if len(named) == 1:
        return named[0]
    if named:
        raise InvalidInputError(f"{len(named)} API tokens are named {token!r}; give one's uid.",
                                hint=Hint("api_tokens", why="to see the uids"))
    raise NotFoundError(f"No API token with uid or name {token!r}.", status=404,
                        hint=Hint("api_tokens", why="to list them"))


def get_api_token(token: str, output: str = "table", context: str | None = None) -> ApiTokenView | TextOutput:
    """One token's metadata, by uid or name."""
    client, _ = client_for(context)
    found = find_token(client, token)
    return summaries_text(token_summary(found), output) if output in ("json", "yaml") else ApiTokenView(found)


def delete_api_token(token: str, context: str | None = None) -> Message:
    """Revoke a token (by uid or name): whatever uses it gets 401 from now on."""
    client, _ = client_for(context)
    found = find_token(client, token)
    client.delete_api_token(found.uid or token)
    return Message(f"API token {found.name!r} (uid {found.uid}) deleted; it no longer works.")


def _check_file(output_file: str) -> Path:
    target = Path(os.path.expanduser(output_file))
    try:
        taken = bool(target.lstat())  # a symlink counts as taken, even a dangling one
    except (FileNotFoundError, NotADirectoryError):
        taken = False
    except (OSError, ValueError) as exc:  # a name too long, a NUL in the path
        raise InvalidInputError(f"Cannot use {str(target)[:200]!r} for the token file ({exc}). Nothing was sent.") \
            from None
    if taken:
        raise InvalidInputError(f"{str(target)!r} exists; give a new file for the token (it is never overwritten). "
                                "Nothing was sent.")
    if not target.parent.is_dir():
        raise InvalidInputError(f"No folder {str(target.parent)!r} for the token file. Nothing was sent.")
    check_writable(target)
    return target


def create_api_token(name: str, scopes: Sequence[str] | None = (), expires: str | datetime | None = None,
                     description: str | None = None, save_as: str | None = None, output_file: str | None = None,
                     context: str | None = None) -> NewTokenView:
    """Create a token and keep it as asked: a validated context (``save_as``), a 0600 file, or this result.

    Raises:
        InvalidInputError: a bad name, scope, expiry, context name or file (nothing is sent).
    """
    if not name or not name.strip():
        raise InvalidInputError("An API token needs a name. Nothing was sent.")
    wanted, expired_at = check_scopes(scopes), parse_expiry(expires)
    target = _check_file(output_file) if output_file else None
    client, resolved = client_for(context)
    if save_as is not None and (not save_as.strip() or save_as == resolved.context.name):
        raise InvalidInputError(f"--save-as needs a new context name, not {save_as!r} (the one in use). "
                                "Nothing was sent.")
    made: NewApiToken = client.create_api_token(api_token_body(name, description, wanted, expired_at))
    try:
        kept = [_save(made, save_as, resolved.context.endpoint, resolved.context.allows_insecure_http)
                if save_as else "", _write(made, target) if target else ""]
    except BentoCloudError as exc:
        with contextlib.suppress(BentoCloudError):
            client.delete_api_token(made.details.uid)
        raise InvalidInputError(f"The new token could not be kept ({exc.message}), so it was revoked at once. "
                                "Nothing was saved.") from None
    where = "; ".join(k for k in kept if k)
    return NewTokenView(made.details, where, None if where else made.token)


def _save(made: NewApiToken, name: str, endpoint: str, insecure: bool) -> str:
    from bentocloud_jupyter.core.api.accounts import login

    result = login(endpoint, made.token, name, insecure)
    return f"saved as context {result.context!r} (switch with `use`)"


def _write(made: NewApiToken, target: Path) -> str:
    if not atomic_write(target, made.token.reveal() + "\n", still_current=lambda: not target.exists()):
        raise InvalidInputError(f"{str(target)!r} appeared meanwhile; it was left as it is.")
    return f"written to {target} (readable by you only)"
