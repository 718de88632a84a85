"""Verbs over organisation secrets, as ``bentoml secret list|create|apply|delete``: names and keys, never values.

Everything that can be checked is checked before a request that changes anything: the keys and values
(:mod:`.secret_values`), ``type``/``stage``/``path``, and that the cluster exists. ``apply_secret``
creates the secret when it is absent, else replaces its content where it lives (its cluster, and its
type, stage and mount path unless given), so running a cell again converges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bentocloud_jupyter.core.api.secret_values import ENV_KEY, KeyValue, read_dotenv, read_pairs
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.guardrails.confirm import require_typed_name
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.messages import Message, TextOutput
from bentocloud_jupyter.core.org_views import SecretsView, SecretView, secret_summary, summaries_text
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.endpoints import Pager
from bentocloud_jupyter.core.rest.org_endpoints import secret_content
from bentocloud_jupyter.core.rest.org_models import SecretDetails
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.tokens import Token

__all__ = ["STAGES", "TYPES", "apply_secret", "create_secret", "delete_secret", "secrets"]

TYPES = {"env": "env", "file": "mountfile"}
"""``--type`` word -> BentoCloud's content type."""
STAGES = ("build", "runtime", "all")
DEFAULT_MOUNT = "$BENTOML_HOME"
"""Where ``bentoml secret create --type file`` mounts files when no ``--path`` is given."""
KeyVals = Sequence["str | tuple[str, str | Token]"] | None


def secrets(search: str | None = None, cluster: str | None = None, output: str = "table",
            context: str | None = None) -> SecretsView | TextOutput:
    """The organisation's secrets (every page): names, keys, type, stage, mount path, cluster."""
    client, _ = client_for(context)
    if cluster:
        check_cluster(client, cluster)
    found = [s for s in all_secrets(client, search) if not cluster or s.cluster == cluster]
    if output in ("json", "yaml"):
        return summaries_text([secret_summary(s) for s in found], output)
    return SecretsView(found, "No secrets match." if search or cluster else "No secrets yet.")


def all_secrets(client: BentoCloudClient, search: str | None = None) -> list[SecretDetails]:
    pager, found = Pager(), []
    while not pager.done:
        found += pager.take(client.list_secrets(search, pager.start, 100), lambda s: (s.cluster, s.name))
    return found


def check_cluster(client: BentoCloudClient, cluster: str) -> None:
    """Raises InvalidInputError (with the clusters to pick from) when ``cluster`` does not exist."""
    try:
        client.get_cluster(cluster)
    except NotFoundError:
        raise InvalidInputError(f"No cluster {cluster!r} in this organization. Nothing was sent.",
                                hint=Hint("clusters", why="to list them")) from None


def _checked(name: str, pairs: list[KeyValue], type: str, stage: str, path: str | None) -> str:
    """The server type word, once name, keys, type, stage and path are usable."""
    if not name or not name.strip():
        raise InvalidInputError("A secret needs a name. Nothing was sent.")
    if type not in TYPES:
        raise InvalidInputError(f"--type must be env or file, not {type!r}. Nothing was sent.")
    if stage not in STAGES:
        raise InvalidInputError(f"--stage must be one of {', '.join(STAGES)}, not {stage!r}. Nothing was sent.")
    if path is not None and type == "env":
        raise InvalidInputError("--path is where files are mounted: give it with --type file. Nothing was sent.")
    if not pairs:
        raise InvalidInputError("Give at least one KEY=VALUE (or --from-file DOTENV). Nothing was sent.")
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        doubled = sorted({k for k in keys if keys.count(k) > 1})
        raise InvalidInputError(f"Key {', '.join(doubled)} is given twice. Nothing was sent.")
    bad = [k for k in keys if type == "env" and not ENV_KEY.fullmatch(k)]
    if bad:
        raise InvalidInputError(f"{bad[0]!r} is not an environment variable name (letters, digits, _). "
                                "Nothing was sent.")
    return TYPES[type]


def _pairs(key_vals: KeyVals, from_file: Sequence[str] | None) -> list[KeyValue]:
    """Every key and value, read locally first (a missing file is refused before any request)."""
    pairs = read_pairs(key_vals or ())
    for dotenv in from_file or ():
        pairs += [pair for pair in read_dotenv(dotenv) if pair[0] not in {k for k, _ in pairs}]
    return pairs


def _content(pairs: list[KeyValue], type: str, stage: str, path: str | None, name: str) -> dict[str, Any]:
    kind = _checked(name, pairs, type, stage, path)
    mount = (path or DEFAULT_MOUNT) if kind == "mountfile" else None
    return secret_content(kind, [(key, value, None) for key, value in pairs], stage, mount)


def create_secret(name: str, key_vals: KeyVals = None, type: str = "env", path: str | None = None,
                  stage: str = "runtime", cluster: str | None = None, from_file: Sequence[str] | None = (),
                  description: str | None = None, context: str | None = None) -> SecretView:
    """Create a secret from ``KEY=VALUE`` / ``KEY=@FILE`` items and dotenv files (values are never shown).

    Raises:
        InvalidInputError: bad keys or values, a missing file, an unknown cluster (nothing is sent).
        ConflictError: a secret of that name exists (use :func:`apply_secret`).
    """
    content = _content(_pairs(key_vals, from_file), type, stage, path, name)
    client, _ = client_for(context)
    if cluster:
        check_cluster(client, cluster)
    return SecretView(client.create_secret(name, {"description": description, "content": content}, cluster), "created")


def apply_secret(name: str, key_vals: KeyVals = None, type: str | None = None, path: str | None = None,
                 stage: str | None = None, cluster: str | None = None, from_file: Sequence[str] | None = (),
                 description: str | None = None, context: str | None = None) -> SecretView:
    """Create the secret, or replace its content if it exists (type, stage and path kept unless given)."""
    pairs = _pairs(key_vals, from_file)
    _checked(name, pairs, type or "file", stage or "runtime", None)  # what can be checked before asking
    client, _ = client_for(context)
    existing = _find(client, name, cluster)
    if existing is None:
        return create_secret(name, pairs, type or "env", path, stage or "runtime", cluster, None, description,
                             context)
    kind = type or existing.mount_as
    kept_path = existing.path if kind == existing.mount_as == "file" else None
    content = _content(pairs, kind, stage or existing.stage or "runtime", path or kept_path, name)
    updated = client.update_secret(name, {"description": description, "content": content},
                                   cluster or existing.cluster or None)
    return SecretView(updated, "applied")


def _find(client: BentoCloudClient, name: str, cluster: str | None) -> SecretDetails | None:
    if cluster:
        check_cluster(client, cluster)
    try:
        return client.get_secret(name, cluster)
    except NotFoundError:
        return None


def delete_secret(name: str, cluster: str | None = None, context: str | None = None,
                  confirm: str | None = None) -> Message:
    """Delete a secret (deployments that use it keep running with what they were given).

    In a protected context ``confirm`` must be the secret's name, typed back.

    Raises:
        ConfirmationNeeded: protected, and ``confirm`` is missing or wrong (no request is sent).
        NotFoundError: no such secret (nothing is deleted).
    """
    client, resolved = client_for(context)
    require_typed_name(resolved, "secret", name, confirm)
    found = _find(client, name, cluster)
    if found is None:
        where = f" in cluster {cluster!r}" if cluster else ""
        raise NotFoundError(f"No secret {name!r}{where}; nothing was deleted.", status=404,
                            hint=Hint("secrets", why="to list them"))
    client.delete_secret(name, cluster or found.cluster or None)
    return Message(f"Secret {name!r} deleted from cluster {found.cluster!r}." if found.cluster
                   else f"Secret {name!r} deleted.")
