"""Kubernetes-like pods derived from a deployment's lifecycle, and the log lines they "print".

Nothing is stored: pods are computed from the status at read time, like statuses themselves.

* ``image-building``: one image-builder pod ``yatai-bento-image-builder-...`` (labels
  ``yatai.ai/bento-repository``, ``yatai.ai/bento``, ``yatai.ai/is-bento-image-builder: "true"``),
  phase ``Running``; after a failed build it stays, phase ``Failed`` (container ``builder``);
* ``deploying`` after the build: api-server pods ``Pending``/``ContainerCreating``; ``running``: one
  per replica (``max(1, min_replicas)``), ``Running`` and ready; ``unhealthy``: running, not ready;
  ``failed``: ``CrashLoopBackOff``; ``terminating``: ``Terminating``; otherwise no pods.
  api-server pods carry ``yatai.ai/bento-function-component-type: api-server`` (container ``main``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from bentocloud_jupyter.sandbox import codespaces, lifecycle, seed
from bentocloud_jupyter.sandbox.records import DeploymentRecord, Revision, iso
from bentocloud_jupyter.sandbox.state import Store
from bentocloud_jupyter.sandbox.validation import dns_slug, entry_min_replicas

BUILDER = "builder"
MAIN = "main"

_REQUIREMENTS = {
    "summarizer": ["torch==2.5.1", "transformers==4.46.3", "sentencepiece==0.2.0"],
    "iris_classifier": ["scikit-learn==1.5.2", "numpy==2.1.3", "pandas==2.2.3"],
    "llm-chat": ["openai==1.55.0", "httpx==0.27.2"],
    "fail-demo": ["fail-demo-internal-sdk==9.9.9"],
}


def _h(*parts: str, n: int = 5) -> str:
    return hashlib.sha1("/".join(parts).encode()).hexdigest()[:n]  # noqa: S324 (names, not security)


def build_window(store: Store, dep: DeploymentRecord) -> tuple[float, float, float | None] | None:
    """(start, end, cut) of the latest rollout's image build; ``cut`` when a later segment ended it early."""
    for index in range(len(dep.segments) - 1, -1, -1):
        seg = dep.segments[index]
        offsets = [off for status, off in seg.plan if status == "image-building"]
        if offsets:
            start = seg.start + offsets[0] / store.speed
            end = start + lifecycle.BUILD / store.speed
            later = dep.segments[index + 1].start if index + 1 < len(dep.segments) else None
            return start, end, later if later is not None and later < end else None
    return None


def _entry(store: Store, dep: DeploymentRecord) -> str:
    rev = dep.latest
    manifest = store.bentos[rev.bento_repo][rev.bento_version].manifest or {}
    return str(manifest.get("entry_service") or rev.bento_repo)


def _pod(name: str, runner: str, labels: dict[str, str], status: str, phase: str, ready: bool,
         reason: str = "") -> dict[str, Any]:
    return {"name": name, "namespace": seed.KUBE_NAMESPACE, "runner_name": runner, "labels": labels,
            "pod_status": {"status": status, "reason": reason}, "status": {"phase": phase, "ready": ready}}


def builder_pod(store: Store, dep: DeploymentRecord, status: str) -> dict[str, Any] | None:
    """The image builder of the latest revision: Running while it builds, Failed after a failed build, and
    Completed (phase Succeeded) once a build finished, as Kubernetes keeps finished pods around."""
    rev = dep.latest
    if status not in ("image-building", "image-build-failed"):
        window = build_window(store, dep)
        if window is None or window[2] is not None or store.clock() < window[1] or status == "terminated":
            return None
        status = "completed"
    labels = {"yatai.ai/bento-repository": rev.bento_repo, "yatai.ai/bento": rev.bento_version,
              "yatai.ai/is-bento-image-builder": "true", "yatai.ai/deployment": dep.name}
    name = f"yatai-bento-image-builder-{dns_slug(rev.bento_repo)}--{dns_slug(rev.bento_version)}-{_h(rev.uid)}"
    if status == "image-building":
        return _pod(name, "", labels, "Running", "Running", True)
    if status == "completed":
        return _pod(name, "", labels, "Completed", "Succeeded", False, "Completed")
    return _pod(name, "", labels, "Error", "Failed", False, "Error")


def deployment_pods(store: Store, dep: DeploymentRecord) -> list[dict[str, Any]]:
    """The pods of a deployment right now (see the module docstring)."""
    with store.lock:
        status, _ = store.status(dep)
        if status in ("image-building", "image-build-failed"):
            return [builder_pod(store, dep, status)]  # type: ignore[list-item]
        window = build_window(store, dep)
        if status == "deploying" and (window is None or store.clock() < window[1]):
            return []  # still queued before the build
        states = {"deploying": ("ContainerCreating", "Pending", False, ""),
                  "running": ("Running", "Running", True, ""), "unhealthy": ("Running", "Running", False, ""),
                  "failed": ("CrashLoopBackOff", "Running", False, "Back-off restarting failed container"),
                  "terminating": ("Terminating", "Running", False, "")}
        if status not in states:
            return []
        entry = _entry(store, dep)
        rev = dep.latest
        replicas = max(1, entry_min_replicas(rev.config, entry) or 1)
        labels = {"yatai.ai/bento-function-component-type": "api-server",
                  "yatai.ai/is-bento-image-builder": "false", "yatai.ai/deployment": dep.name,
                  "yatai.ai/bento-repository": rev.bento_repo, "yatai.ai/bento": rev.bento_version}
        pod_status, phase, ready, reason = states[status]
        prefix = f"{dep.name}-{dns_slug(entry)}-{_h(rev.uid, n=9)}"
        return [_pod(f"{prefix}-{_h(rev.uid, str(i))}", entry, dict(labels), pod_status, phase, ready, reason)
                for i in range(replicas)]


def bento_pods(store: Store, cluster: str, repo: str, version: str) -> list[dict[str, Any]]:
    """Pods of every deployment in ``cluster`` whose latest revision runs ``repo:version``."""
    with store.lock:
        deps = [d for d in store.deployments.values() if d.cluster == cluster
                and d.latest.bento_repo == repo and d.latest.bento_version == version]
        return [pod for d in deps for pod in _with_finished_builder(store, d)]


def _with_finished_builder(store: Store, dep: DeploymentRecord) -> list[dict[str, Any]]:
    """The deployment's pods plus its finished image builder, if any (so its log stays readable)."""
    current = deployment_pods(store, dep)
    if any(p["labels"].get("yatai.ai/is-bento-image-builder") == "true" for p in current):
        return current
    status, _ = store.status(dep)
    finished = builder_pod(store, dep, status)
    return [finished, *current] if finished is not None else current


def find_pod(store: Store, cluster: str, pod_name: str) -> tuple[DeploymentRecord, dict[str, Any]] | None:
    with store.lock:
        for dep in store.deployments.values():
            if dep.cluster == cluster:
                for pod in _with_finished_builder(store, dep):
                    if pod["name"] == pod_name:
                        return dep, pod
    return None


def build_log(store: Store, dep: DeploymentRecord) -> list[str]:
    """A realistic image build log for the latest revision (ending in an error for ``fail`` bentos)."""
    rev = dep.latest
    manifest = store.bentos[rev.bento_repo][rev.bento_version].manifest or {}
    image = manifest.get("image") or {}
    base = image.get("base_image") or f"python:{image.get('python_version') or '3.11'}-slim"
    reqs = _REQUIREMENTS.get(rev.bento_repo) or [
        line for line in str(image.get("python_requirements") or "").splitlines() if line.strip()]
    reqs = [f"bentoml=={manifest.get('bentoml_version') or seed.BENTOML_VERSION}", *reqs]
    layer = _h(rev.uid, "layer", n=12)
    lines = _build_head(rev, base, layer, reqs)
    tail = _build_failure(rev, reqs) if "fail" in rev.bento_repo else _build_success(rev, layer, reqs)
    return [*lines, *tail]


def _build_head(rev: Revision, base: str, layer: str, reqs: list[str]) -> list[str]:
    """Steps 1 to 7 and the downloads: what every build prints, failing or not."""
    lines = [
        f"Building image for bento {rev.bento_repo}:{rev.bento_version} (revision {rev.uid})",
        f"Step 1/12 : FROM {base}", f" ---> {_h(base, n=12)}",
        "Step 2/12 : ENV LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONIOENCODING=UTF-8 PYTHONUNBUFFERED=1",
        f" ---> Running in {_h(layer, '2', n=12)}",
        "Step 3/12 : RUN useradd -ms /bin/bash bentoml && mkdir -p /home/bentoml/bento",
        f" ---> Running in {_h(layer, '3', n=12)}",
        "Step 4/12 : ENV BENTOML_HOME=/home/bentoml/ BENTO_PATH=/home/bentoml/bento",
        "Step 5/12 : WORKDIR /home/bentoml/bento",
        "Step 6/12 : COPY --chown=bentoml:bentoml ./env/python ./env/python/",
        "Step 7/12 : RUN pip install --no-cache-dir -r ./env/python/requirements.txt",
        f" ---> Running in {_h(layer, '7', n=12)}",
    ]
    for req in reqs:
        name, _, version = req.partition("==")
        lines += [f"Collecting {req}", f"  Downloading {name.replace('-', '_')}-{version}-py3-none-any.whl"]
    return lines


def _build_failure(rev: Revision, reqs: list[str]) -> list[str]:
    """The pip error a ``fail`` bento ends with: its last requirement does not exist."""
    bad = reqs[-1]
    return [
        f"ERROR: Could not find a version that satisfies the requirement {bad} (from versions: none)",
        f"ERROR: No matching distribution found for {bad}",
        "The command '/bin/sh -c pip install --no-cache-dir -r ./env/python/requirements.txt' returned a "
        "non-zero code: 1",
        "error building image: exit status 1",
        f"Image build of {rev.bento_repo}:{rev.bento_version} failed",
    ]


def _build_success(rev: Revision, layer: str, reqs: list[str]) -> list[str]:
    """Steps 8 to 12, the tag and the push of a build that worked."""
    names = " ".join(r.split("==")[0] + "-" + r.split("==")[-1] for r in reqs)
    image = f"registry.sandbox.local/yatai-bentos:{rev.bento_repo}--{rev.bento_version}"
    return [
        f"Installing collected packages: {' '.join(r.split('==')[0] for r in reqs)}",
        f"Successfully installed {names}",
        f" ---> {_h(layer, '7b', n=12)}",
        "Step 8/12 : COPY --chown=bentoml:bentoml . ./",
        f" ---> {_h(layer, '8', n=12)}",
        "Step 9/12 : RUN chmod +x ./env/docker/entrypoint.sh",
        f" ---> Running in {_h(layer, '9', n=12)}",
        "Step 10/12 : USER bentoml",
        "Step 11/12 : EXPOSE 3000",
        'Step 12/12 : ENTRYPOINT ["./env/docker/entrypoint.sh"]',
        f" ---> Running in {_h(layer, '12', n=12)}",
        f"Successfully built {layer}",
        f"Successfully tagged {image}",
        f"Pushing image {image}",
        f"{rev.bento_version}: digest: sha256:{hashlib.sha256(layer.encode()).hexdigest()} size: 4302",
    ]


def serving_log(store: Store, dep: DeploymentRecord, pod_name: str) -> list[str]:
    """What an api-server pod has printed so far: start-up lines plus one access line per /_svc call."""
    with store.lock:
        codespaces.flush_log(store, dep)
        entry = _entry(store, dep)
        window = build_window(store, dep)
        started = iso(window[1] if window else dep.created_at)
        head = [
            f"{started} [INFO] [cli] Starting {'development' if dep.dev else 'production'} HTTP BentoServer from "
            f"\"service:{entry}\" listening on "
            "http://localhost:3000 (Press CTRL+C to quit)",
            f"{started} [INFO] [entry_service:{entry}:1] Service {entry} initialized",
            f"{started} [INFO] [entry_service:{entry}:1] pod {pod_name} ready",
        ]
        return head + list(store.svc_logs.get(dep.name, []))
