"""API token scopes: which ones exist and the one rule the sandbox enforces with them.

BentoCloud tokens carry some of five scopes (bentoml's ``api-token create --scope`` help lists them).
The sandbox's rule, applied to every authenticated REST call: reads (GET/HEAD) need only a live token;
anything that changes state (POST, PUT, PATCH, DELETE: deployments, secrets, tokens, bento and model
pushes) needs ``write_organization`` or ``write_cluster``, else 403 in BentoCloud's error shape. The
sandbox's start-up token and tokens created without ``scopes`` hold all five.
"""

from __future__ import annotations

from bentocloud_jupyter.sandbox.records import ALL_SCOPES, SandboxError, TokenRecord

WRITE_SCOPES = ("write_organization", "write_cluster")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def require_write(rec: TokenRecord, method: str, path: str) -> None:
    """403 unless the token may change state (reads always pass)."""
    if method.upper() in READ_METHODS or any(s in WRITE_SCOPES for s in rec.scopes):
        return
    held = ", ".join(rec.scopes) or "none"
    raise SandboxError(403, f"API token {rec.name!r} may not {method.upper()} {path}: it needs the "
                            f"write_organization or write_cluster scope (it has: {held}); "
                            "create a token with --scope write_organization")


def check_requested(value: object) -> list[str] | None:
    """The ``scopes`` of a create-token body: None means all; unknown names are 400."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise SandboxError(400, "scopes must be a list of scope names")
    unknown = [s for s in value if s not in ALL_SCOPES]
    if unknown:
        raise SandboxError(400, f"unknown scope(s) {', '.join(map(repr, unknown))}; known: {', '.join(ALL_SCOPES)}")
    if not value:
        raise SandboxError(400, f"give at least one scope ({', '.join(ALL_SCOPES)}) or omit scopes for all")
    return list(dict.fromkeys(value))
