"""Our labels on the bodies we send: added on create, kept on update/start/apply.

Why: ``bentoml``'s update replaces the label list when ``--label`` is given, which would erase the marks a
later kernel needs (created-by, session, expires-at). The user's labels are theirs; ours are re-added.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.guardrails.ledger import EXPIRES_KEY, labels_for
from bentocloud_jupyter.core.guardrails.ttl import expiry_of, label_value

__all__ = ["OURS_PREFIX", "check_not_ours", "for_change", "for_create", "is_ours"]

OURS_PREFIX = "bentocloud-jupyter/"

Labels = list[dict[str, str]]


def is_ours(key: object) -> bool:
    """A label key we write (and the user's ``--label`` may not replace)."""
    return isinstance(key, str) and key.startswith(OURS_PREFIX)


def check_not_ours(labels: Sequence[object] | None) -> None:
    """A ``--label`` under our prefix is refused before anything is sent (it would be dropped: ours are
    written by us, and an expiry comes from ``--ttl``).

    Raises:
        InvalidInputError: a ``key=value`` whose key is one of ours.
    """
    for item in labels or ():
        key = str(item).partition("=")[0].strip()
        if is_ours(key):
            raise InvalidInputError(f"--label {key!r}: keys under {OURS_PREFIX} are written by bentocloud_jupyter "
                                    "(created-by, session, expiry) and cannot be set; use --ttl for an expiry; "
                                    "nothing was sent")


def _usable(items: Sequence[object] | None) -> Labels:
    return [{"key": i["key"], "value": i["value"]} for i in items or [] if isinstance(i, Mapping)
            and isinstance(i.get("key"), str) and isinstance(i.get("value"), str)]


def for_create(given: Sequence[object] | None, expires_at: float | None) -> Labels:
    """The user's labels plus ours (created-by, this session, the expiry of a TTL)."""
    return [item for item in _usable(given) if not is_ours(item["key"])] + labels_for(expires_at)


def for_change(given: Sequence[object] | None, current: Mapping[str, str], expires_at: float | None, *,
               drop_passed: bool = False, now: float | None = None) -> Labels | None:
    """The labels to send with an update: None (the server keeps the current ones) when nothing changes them.

    ``given`` replaces the user's labels and keeps ours; ``expires_at`` sets a new expiry; ``drop_passed``
    (a start without a TTL) removes an expiry that has passed, so the restarted deployment is not flagged.
    """
    passed = expiry_of(current)
    stale = drop_passed and passed is not None and passed <= (time.time() if now is None else now)
    if given is None and expires_at is None and not stale:
        return None
    ours = {k: v for k, v in current.items() if is_ours(k) and isinstance(v, str)}
    if expires_at is not None:
        ours[EXPIRES_KEY] = label_value(expires_at)
    elif stale:
        ours.pop(EXPIRES_KEY, None)
    base = _usable(given) if given is not None else [{"key": k, "value": v} for k, v in current.items()
                                                      if isinstance(v, str)]
    return [item for item in base if not is_ours(item["key"])] + [{"key": k, "value": v} for k, v in ours.items()]
