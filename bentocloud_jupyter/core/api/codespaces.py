"""Verbs over codespaces: a dev deployment that BentoCloud reloads when the project's files change
(``bentoml code``), driven from the notebook without blocking it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bentocloud_jupyter.core.artifacts.build import BENTOML_NEEDED, bentoml_installed
from bentocloud_jupyter.core.codespaces.create import Creation, is_dev, new_name, wait_for_api_server
from bentocloud_jupyter.core.codespaces.handle import Codespace, attached, write_into
from bentocloud_jupyter.core.codespaces.plan import check_syntax
from bentocloud_jupyter.core.codespaces.project import check_project, project_files
from bentocloud_jupyter.core.codespaces.state import CodespaceState
from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args
from bentocloud_jupyter.core.deployments.options import DeployOptions
from bentocloud_jupyter.core.display import format_time
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.guardrails.ttl import expires_in, schedule_expiry
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import TableView

__all__ = ["attached", "code", "codespaces", "write_file"]


def code(path: str | None = None, attach: str | None = None, list: bool = False, cluster: str | None = None,
         instance_type: str | None = None, envs: Sequence[str] = (), secrets: Sequence[str] = (),
         args: Sequence[str] = (), ttl: str | None = None, context: str | None = None) -> Codespace | TableView:
    """Create (or ``attach`` to) a codespace for the project folder ``path`` (default: the current folder) and
    keep it in sync: returns a handle at once; the build, the first sync and the live sync run on the kernel's
    loop. ``list=True`` lists the codespaces instead. ``ttl`` (``2h``) terminates it when it runs out.

    Raises:
        InvalidInputError: not a BentoML project, a syntax error (create), bentoml missing (create), ``attach``
        naming a deployment that is not a codespace, bad options. NotFoundError: no such codespace.
    """
    if list:
        return codespaces(cluster=cluster, context=context)
    root = check_project(path or ".")
    expires_at = expires_in(ttl)
    client, resolved = client_for(context)
    if attach:
        deployment = client.get_deployment(attach, cluster)
        if not is_dev(deployment):
            raise InvalidInputError(f"{attach!r} is a deployment, not a codespace; attach to one of the codespaces",
                                    hint=Hint("code", {"list": True}, why="to list the codespaces"))
        state = CodespaceState(deployment.name, resolved.context.name, root, deployment.cluster or cluster)
        handle = Codespace(state, resolved)
        creation = Creation(state.cluster)
        handle.rebuild = lambda: creation.rebuild(handle)
        handle.start(wait_for_api_server)
    else:
        creation = _creation(root, cluster, instance_type, envs, secrets, args, expires_at)
        state = CodespaceState(new_name(root.name), resolved.context.name, root, cluster)
        handle = Codespace(state, resolved)
        handle.rebuild = lambda: creation.rebuild(handle)
        handle.start(creation.prepare)
    if expires_at is not None:
        schedule_expiry(resolved, state.name, state.cluster or "", expires_at, stop=handle.aterminate)
    return handle


def _creation(root: Path, cluster: str | None, instance_type: str | None, envs: Sequence[str],
              secrets: Sequence[str], args: Sequence[str], expires_at: float | None) -> Creation:
    """Everything a create checks before anything is sent: bentoml, the options, the service's syntax."""
    if not bentoml_installed():
        raise InvalidInputError(BENTOML_NEEDED.replace("Building a project folder", "Creating a codespace"))
    options = DeployOptions(cluster=cluster, instance_type=instance_type, envs=_texts(envs), secrets=_texts(secrets))
    bento_args = parse_bento_args(args, None)
    for rel, file in project_files(root).files.items():
        if rel.endswith(".py"):
            try:
                problem = check_syntax(rel, file.read_bytes())
            except OSError:
                continue
            if problem is not None:
                raise InvalidInputError(problem.message.replace("not uploaded; the codespace keeps the last good "
                                                                "files", "fix it, then run code again"))
    return Creation(options.cluster, options.instance_type, options.envs, options.secrets, bento_args, expires_at)


def _texts(value: Sequence[str] | str | None) -> tuple[str, ...]:
    """One text or many (``envs="A=1"`` is one env, not three letters)."""
    return (value,) if isinstance(value, str) else tuple(value or ())


def codespaces(cluster: str | None = None, context: str | None = None) -> TableView:
    """The codespaces (``is:dev`` deployments): name, cluster, status, URL, created."""
    client, _ = client_for(context)
    rows = [[d.name, d.cluster, d.status, d.url or "", format_time(d.created_at)]
            for d in client.list_deployments(cluster, q="is:dev") if is_dev(d)]
    return TableView(["codespace", "cluster", "status", "url", "created"], rows,
                     "No codespaces: `%bentocloud code PATH` starts one.")


def write_file(file: str, text: str) -> Message:
    """Write ``text`` to ``file`` in the attached codespace's project and sync it at once (the twin of a
    ``%%bentocloud write FILE`` cell); without an attached codespace, only write the file (relative to the
    current folder).

    Raises:
        InvalidInputError: a path outside the project, or one the OS refuses.
    """
    handle = attached()
    if handle is not None:
        return handle.write(file, text)
    target = write_into(Path.cwd().resolve(), file, text)
    return Message(f"Wrote {target}; no codespace is attached, so nothing was synced.", "warning")


