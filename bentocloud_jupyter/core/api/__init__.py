"""The verbs: the one door every front end uses (the Python API, the magics, the widgets).

Keyword names and defaults here are the single source of truth; the magics' parsers follow them (a test
checks that they agree). Each verb resolves the credentials once, reuses the context's shared client, and
returns a value that displays itself; a verb that starts something to follow says so in its result
(:class:`~.results.Follow`), so front ends never re-assemble the work. Keyword-only parameters
(``progress=``) are for front ends to inject displays.

Rooms: ``accounts`` (login, contexts), ``deployments``, ``platform`` (clusters, instance types),
``artifacts`` (push, pull, bentos, models), ``serving`` (logs, calls), ``following`` (live watches),
``settings`` (configure), ``sandbox`` (the local emulator), ``secrets`` and ``tokens`` (the organisation's
secrets and API tokens), ``evaluate`` (map and bench: many calls at once),
``session`` (what this kernel started; teardown), ``protection`` (protected contexts),
``doctor`` (is everything in order?), ``codespaces`` (``bentoml code``).

>>> import bentocloud_jupyter as bc                                   # doctest: +SKIP
>>> bc.deploy("summarizer:v3", name="summarizer", scaling_max=3, wait=True)
"""

from __future__ import annotations

from bentocloud_jupyter.core.api.accounts import (
    contexts,
    credentials_file,
    login,
    logout,
    start_browser_login,
    use_context,
    whoami,
)
from bentocloud_jupyter.core.api.applying import apply
from bentocloud_jupyter.core.api.artifacts import bentos, models, pull, push
from bentocloud_jupyter.core.api.codespaces import attached, code, codespaces, write_file
from bentocloud_jupyter.core.api.deployments import (
    OUTPUTS,
    delete,
    deploy,
    get,
    list_deployments,
    start,
    status,
    terminate,
    update,
)
from bentocloud_jupyter.core.api.doctor import doctor
from bentocloud_jupyter.core.api.evaluate import bench, map
from bentocloud_jupyter.core.api.following import follow_deployment, start_watch, unwatch, watched
from bentocloud_jupyter.core.api.platform import clusters, instance_types
from bentocloud_jupyter.core.api.protection import protect, unprotect
from bentocloud_jupyter.core.api.secrets import apply_secret, create_secret, delete_secret, secrets
from bentocloud_jupyter.core.api.serving import call, logs, openapi
from bentocloud_jupyter.core.api.session import session, teardown
from bentocloud_jupyter.core.api.settings import configure
from bentocloud_jupyter.core.api.tokens import api_tokens, create_api_token, delete_api_token, get_api_token

__all__ = ["OUTPUTS", "apply", "bentos", "call", "clusters", "configure", "contexts", "credentials_file", "delete",
           "deploy", "follow_deployment", "get", "instance_types", "list_deployments", "login", "logout", "logs",
           "models", "openapi", "pull", "push", "start", "start_browser_login", "start_watch", "status", "terminate",
           "unwatch", "update", "use_context", "watched", "whoami"]
__all__ += ["api_tokens", "apply_secret", "create_api_token", "create_secret", "delete_api_token", "delete_secret",
            "get_api_token", "secrets"]
__all__ += ["bench", "map"]
__all__ += ["attached", "code", "codespaces", "doctor", "protect", "session", "teardown", "unprotect", "write_file"]
