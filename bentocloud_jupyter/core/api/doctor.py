"""The doctor verb: versions, credentials, endpoint, token and clock, each ok, warn or fail with what to do."""

from __future__ import annotations

from bentocloud_jupyter.core.credentials.config import ENV_CONTEXT_NAME, credentials_path
from bentocloud_jupyter.core.doctor import creds, local, remote
from bentocloud_jupyter.core.doctor.report import Check, DoctorReport, safely
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, check_duration

__all__ = ["DEFAULT_DOCTOR_TIMEOUT", "doctor"]

DEFAULT_DOCTOR_TIMEOUT = 10.0
"""Seconds each of the doctor's GETs may take: short, since a doctor that hangs a minute helps nobody."""


def doctor(context: str | None = None, timeout: float = DEFAULT_DOCTOR_TIMEOUT) -> DoctorReport:
    """Is everything in order? One line per check (ok, warn or fail), with what to do; never a token.

    Checks versions, the front end and widgets, where the credentials come from and their file's
    permissions, the endpoint (scheme, reachability, latency), the token's user, organisation and expiry,
    the clock against the server's ``Date``, and the sandbox of this kernel. Nothing is changed.

    Raises:
        InvalidInputError: ``timeout`` is not a number of seconds above 0 (nothing is sent).
    """
    seconds = check_duration(timeout, maximum=MAX_REQUEST_TIMEOUT)
    checks: list[Check] = []
    checks += safely("versions", local.versions)
    checks += safely("front end", local.front_end)
    checks += safely("widgets", local.widget_manager)
    source, resolved = creds.source_check(context)
    checks.append(source)
    checks += safely("credentials file", lambda: creds.file_checks(resolved, credentials_path()))
    if resolved is not None:
        ctx = resolved.context
        endpoint = safely("endpoint", lambda: remote.endpoint_check(ctx))
        checks += endpoint
        if all(check.level != "fail" for check in endpoint):  # a refused endpoint is never sent the token
            checks += safely("reachable", lambda: remote.remote_checks(ctx, seconds))
    name = None if resolved is None else resolved.context.name
    checks += safely("sandbox", lambda: local.sandbox_check(name))
    shown = "" if name is None else "the environment" if name == ENV_CONTEXT_NAME else f"context {name!r}"
    return DoctorReport.of(checks, shown)
