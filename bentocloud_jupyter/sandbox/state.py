"""The sandbox's in-memory store: seeded resources, deployments and their lifecycle operations.

One lock guards everything because uvicorn serves from its own thread while tests read ``.state``
from theirs. Methods raise :class:`SandboxError`; :mod:`.app` turns those into JSON responses.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from bentocloud_jupyter.sandbox import lifecycle, seed, svcapis
from bentocloud_jupyter.sandbox.records import (
    ArtifactRecord,
    DeploymentRecord,
    LoginCode,
    RepoRecord,
    Revision,
    SandboxError,
    SecretRecord,
    TokenRecord,
    new_uid,
    not_found,
    parse_time,
)
from bentocloud_jupyter.sandbox.validation import check_name, dns_slug, entry_min_replicas, normalise_config

LOGIN_CODE_TTL = 600.0


def new_token() -> str:
    """A fresh random API token value (``sbx_`` prefix makes leaks easy to grep for)."""
    return "sbx_" + secrets.token_urlsafe(24)


class Store:
    """All sandbox state. ``speed`` scales the lifecycle; ``clock`` is injectable for tests."""

    def __init__(self, token: str, speed: float = 1.0, clock: Callable[[], float] = time.time) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.lock = threading.RLock()
        self.speed = speed
        self.clock = clock
        self.primary_token = token
        self.tokens: dict[str, TokenRecord] = {}
        self.login_codes: dict[str, LoginCode] = {}
        self.transfer_mode = "proxy"  # "proxy" | "presigned" | "multipart" (see .transfers)
        self.reset()

    # ----- seeding -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the seed data; the primary token (and tokens issued since) stay valid."""
        with self.lock:
            t0 = parse_time(seed.SEED_TIME) or 0.0
            self.seed_time = t0
            self.clusters = {c["name"]: dict(c, uid=new_uid("cluster")) for c in copy.deepcopy(seed.CLUSTERS)}
            self.instance_types = {i["name"]: dict(i, uid=new_uid("ri")) for i in copy.deepcopy(seed.INSTANCE_TYPES)}
            self.bento_repos: dict[str, RepoRecord] = {}
            self.bentos: dict[str, dict[str, ArtifactRecord]] = {}
            self.model_repos: dict[str, RepoRecord] = {}
            self.models: dict[str, dict[str, ArtifactRecord]] = {}
            for m in copy.deepcopy(seed.MODELS):
                self._seed_model(m, t0)
            for b in copy.deepcopy(seed.BENTOS):
                self._seed_bento(b, t0)
            self.secrets: dict[str, SecretRecord] = {}
            for s in copy.deepcopy(seed.SECRETS):
                self.secrets[s["name"]] = SecretRecord(
                    uid=new_uid("secret"), name=s["name"], created_at=t0, content=s["content"],
                    cluster=seed.DEFAULT_CLUSTER, description=s["description"])
            self.deployments: dict[str, DeploymentRecord] = {}
            self.svc_logs: dict[str, list[str]] = {}  # deployment name -> access-log lines of /_svc calls
            if self.primary_token not in self.tokens:
                self.tokens[self.primary_token] = TokenRecord(
                    uid=new_uid("token"), name=seed.API_TOKEN_NAME, token=self.primary_token, created_at=t0,
                    description="Token of the local sandbox (printed at start-up)")

    def _seed_model(self, m: dict[str, Any], t0: float) -> None:
        created = parse_time(m["created_at"]) or t0
        self.model_repos.setdefault(m["repo"], RepoRecord(new_uid("mrepo"), m["repo"], created))
        manifest = {"module": m["module"], "api_version": "v1", "bentoml_version": seed.BENTOML_VERSION,
                    "size_bytes": m["size_bytes"], "metadata": m["metadata"], "context": m["context"],
                    "options": {}}
        self.models.setdefault(m["repo"], {})[m["version"]] = ArtifactRecord(
            uid=new_uid("model"), repo=m["repo"], version=m["version"], created_at=created,
            manifest=manifest, description=m["description"], build_at=created, image_build_status="",
            upload_started_at=created, upload_finished_at=created, seeded=True)

    def _seed_bento(self, b: dict[str, Any], t0: float) -> None:
        created = parse_time(b["created_at"]) or t0
        self.bento_repos.setdefault(b["repo"], RepoRecord(new_uid("brepo"), b["repo"], created))
        model_infos = []
        for tag in b["models"]:
            repo, version = tag.split(":")
            model = self.models[repo][version]
            model_infos.append({"tag": tag, "module": (model.manifest or {}).get("module"),
                                "creation_time": b["created_at"], "alias": None, "registry": "bentoml",
                                "metadata": None})
        manifest = {
            "service": f"service:{b['entry']}", "bentoml_version": seed.BENTOML_VERSION,
            "size_bytes": b["size_bytes"], "entry_service": b["entry"], "name": b["repo"],
            "version": b["version"], "apis": {}, "models": list(b["models"]), "runners": [],
            "services": [{"name": b["entry"], "service": "", "models": model_infos, "dependencies": [],
                          "config": {}}],
            "envs": b["envs"], "schema": svcapis.manifest_schema(b["repo"], b["entry"]), "dev": False, "spec": 2,
            "image": {"base_image": "", "python_version": "3.11", "commands": [], "python_requirements": "",
                      "post_commands": [], "build_include": []},
        }
        self.bentos.setdefault(b["repo"], {})[b["version"]] = ArtifactRecord(
            uid=new_uid("bento"), repo=b["repo"], version=b["version"], created_at=created,
            manifest=manifest, description=b["description"], build_at=created,
            labels=[{"key": "team", "value": "demo"}], upload_started_at=created, upload_finished_at=created,
            seeded=True)

    # ----- auth ----------------------------------------------------------------------------
    def authenticate(self, token: str | None, expire_all: bool = False) -> TokenRecord:
        """The record of a valid token, else 401 with a message that says what to do."""
        if not token:
            raise SandboxError(401, "missing X-YATAI-API-TOKEN header: send the sandbox API token")
        with self.lock:
            rec = self.tokens.get(token)
            if rec is None:
                raise SandboxError(401, "invalid API token: this sandbox does not know it; use the token "
                                        "printed at start-up or log in again")
            now = self.clock()
            if expire_all or rec.expired or (rec.expired_at is not None and rec.expired_at <= now):
                raise SandboxError(401, "API token has expired: log in again to get a new token")
            rec.last_used_at = now
            return rec

    def issue_token(self, name: str, description: str = "", scopes: list[str] | None = None,
                    expired_at: float | None = None) -> TokenRecord:
        """Create a new valid token (login flow, POST /api_tokens)."""
        with self.lock:
            rec = TokenRecord(uid=new_uid("token"), name=name, token=new_token(), created_at=self.clock(),
                              description=description, expired_at=expired_at)
            if scopes is not None:
                rec.scopes = list(scopes)
            self.tokens[rec.token] = rec
            return rec

    def expire_token(self, token: str) -> None:
        """Make one token answer 401 "expired" from now on."""
        with self.lock:
            if token not in self.tokens:
                raise KeyError("unknown token")
            self.tokens[token].expired = True

    def new_login_code(self) -> str:
        with self.lock:
            code = secrets.token_urlsafe(16)
            self.login_codes[code] = LoginCode(code=code, created_at=self.clock())
            return code

    def login_code(self, code: str | None) -> LoginCode:
        with self.lock:
            rec = self.login_codes.get(code or "")
            if rec is None or self.clock() - rec.created_at > LOGIN_CODE_TTL:
                raise not_found("login code (unknown or expired; request a new one)")
            return rec

    def approve_login(self, code: str | None) -> LoginCode:
        with self.lock:
            rec = self.login_code(code)
            if rec.token is None:
                rec.token = self.issue_token(f"login-{rec.code[:6]}", "Created by browser login").token
            return rec

    # ----- lookups -------------------------------------------------------------------------
    def cluster_name(self, name: str | None) -> str:
        """Empty means the default cluster; unknown names are 404."""
        name = name or seed.DEFAULT_CLUSTER
        if name not in self.clusters:
            raise not_found(f"cluster {name!r}")
        return name

    def resolve_bento(self, ref: object) -> ArtifactRecord:
        """``name:version``, ``name`` or ``name:latest`` -> the bento record (404 names it)."""
        if not isinstance(ref, str) or not ref:
            raise SandboxError(400, "bento is required, as 'name:version'")
        repo, _, version = ref.partition(":")
        with self.lock:
            versions = self.bentos.get(repo)
            if versions and version in ("", "latest"):
                return max(versions.values(), key=lambda b: b.created_at)
            if not versions or version not in versions:
                raise not_found(f"bento {ref!r}")
            return versions[version]

    def secret_env_keys(self, name: str, cluster: str) -> list[str] | None:
        """Env keys an ``env`` secret of that cluster provides ([] for mountfile); None when it is not there."""
        rec = self.secrets.get(name)
        if rec is None or rec.cluster != cluster:
            return None
        if rec.content.get("type") != "env":
            return []
        return [str(i.get("key")) for i in rec.content.get("items") or []]

    def get_deployment(self, name: str, cluster: str | None = None) -> DeploymentRecord:
        with self.lock:
            dep = self.deployments.get(name)
            if dep is None or (cluster and dep.cluster != cluster):
                where = f" in cluster {cluster!r}" if cluster else ""
                raise not_found(f"deployment {name!r}{where}")
            return dep

    def status(self, dep: DeploymentRecord) -> tuple[str, float]:
        """(status, when it was entered) right now."""
        return lifecycle.current(dep, self.clock(), self.speed)

    def history(self, name: str) -> list[tuple[str, float]]:
        """Status transitions of a deployment so far, for tests."""
        with self.lock:
            return lifecycle.history(self.get_deployment(name), self.clock(), self.speed)

    # ----- deployments ---------------------------------------------------------------------
    def _rollout(self, dep: DeploymentRecord, bento: ArtifactRecord, config: dict[str, Any]) -> None:
        now = self.clock()
        dep.revisions.append(Revision(uid=new_uid("rev"), created_at=now, config=config,
                                      bento_repo=bento.repo, bento_version=bento.version))
        entry = (bento.manifest or {}).get("entry_service", "")
        plan = lifecycle.rollout_plan(dep.name, bento.repo, entry_min_replicas(config, entry))
        lifecycle.add_segment(dep, now, plan)

    def _config(self, body: dict[str, Any], bento: ArtifactRecord, cluster: str) -> dict[str, Any]:
        if bento.manifest is None:
            raise SandboxError(400, f"bento {bento.repo}:{bento.version} has no manifest (upload not finished)")
        return normalise_config(body, bento.manifest, self.instance_types,
                                lambda name: self.secret_env_keys(name, cluster))

    def create_deployment(self, body: object, cluster: str | None) -> DeploymentRecord:
        if not isinstance(body, dict):
            raise SandboxError(400, "request body must be a JSON object")
        with self.lock:
            cluster_name = self.cluster_name(cluster)
            bento = self.resolve_bento(body.get("bento"))
            name = body.get("name")
            if name is None:
                name = f"{dns_slug(bento.repo)}-{secrets.token_hex(3)}"
            check_name(name)
            if name in self.deployments:
                raise SandboxError(409, f"deployment {name!r} already exists")
            config = self._config(body, bento, cluster_name)
            now = self.clock()
            dep = DeploymentRecord(uid=new_uid("deployment"), name=name, cluster=cluster_name, created_at=now,
                                   labels=config["labels"] or [], dev=bool(body.get("dev")))
            self._rollout(dep, bento, config)
            self.deployments[name] = dep
            return dep

    def update_deployment(self, name: str, body: object, cluster: str | None) -> DeploymentRecord:
        """PUT: the body is the complete desired config; a new revision rolls out."""
        if not isinstance(body, dict):
            raise SandboxError(400, "request body must be a JSON object")
        with self.lock:
            dep = self.get_deployment(name, cluster)
            current = dep.latest
            ref = body.get("bento") or f"{current.bento_repo}:{current.bento_version}"
            bento = self.resolve_bento(ref)
            config = self._config(body, bento, dep.cluster)
            if config["labels"] is not None:
                dep.labels = config["labels"]
            self._rollout(dep, bento, config)
            return dep

    def void_update(self, name: str, cluster: str | None) -> DeploymentRecord:
        """Re-roll the current config as a new revision (also restarts a terminated deployment)."""
        with self.lock:
            dep = self.get_deployment(name, cluster)
            current = dep.latest
            bento = self.resolve_bento(f"{current.bento_repo}:{current.bento_version}")
            self._rollout(dep, bento, copy.deepcopy(current.config))
            return dep

    def terminate(self, name: str, cluster: str | None) -> DeploymentRecord:
        with self.lock:
            dep = self.get_deployment(name, cluster)
            if self.status(dep)[0] not in ("terminating", "terminated"):
                lifecycle.add_segment(dep, self.clock(), lifecycle.terminate_plan())
            return dep

    def delete(self, name: str, cluster: str | None) -> DeploymentRecord:
        with self.lock:
            dep = self.get_deployment(name, cluster)
            del self.deployments[name]
            dep.deleted_at = self.clock()
            return dep

    def touch_service(self, name: str) -> str:
        """Traffic to ``/_svc/{name}``: wakes a scaled-to-zero deployment; returns the status."""
        with self.lock:
            dep = self.get_deployment(name)
            status, _ = self.status(dep)
            if status not in lifecycle.READY:
                return status
            bento = self.resolve_bento(f"{dep.latest.bento_repo}:{dep.latest.bento_version}")
            min_replicas = entry_min_replicas(dep.latest.config, (bento.manifest or {}).get("entry_service", ""))
            if min_replicas == 0:
                plan = lifecycle.wake_plan(min_replicas)
                lifecycle.add_segment(dep, self.clock(), plan, touch=status != "running")
            return "running"

    def list_deployments(self, cluster: str | None, all_clusters: bool, search: str | None,
                         q: str | None) -> list[DeploymentRecord]:
        """Filtered, newest first. Neither cluster nor all: the default cluster only."""
        with self.lock:
            if cluster:
                cluster = self.cluster_name(cluster)
            elif not all_clusters:
                cluster = seed.DEFAULT_CLUSTER
            items = [d for d in self.deployments.values() if not cluster or d.cluster == cluster]
            if search:
                items = [d for d in items if search.lower() in d.name.lower()]
            for term in (q or "").split():
                items = [d for d in items if _matches(d, term)]
            return sorted(items, key=lambda d: d.created_at, reverse=True)


def _matches(dep: DeploymentRecord, term: str) -> bool:
    """One ``q`` term: ``is:dev``, ``label:k=v`` (or ``label:k``), else a name substring."""
    if term == "is:dev":
        return dep.dev
    if term.startswith("label:"):
        key, sep, value = term[len("label:"):].partition("=")
        return any(lb["key"] == key and (not sep or lb["value"] == value) for lb in dep.labels)
    return term.lower() in dep.name.lower()
