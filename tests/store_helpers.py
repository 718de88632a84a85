"""A local bentoml store written by hand (the layout bentoml 1.4 uses), for push and pull tests."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CREATED = "2026-11-28T05:24:40.710123+00:00"


def make_model(home: Path, name: str = "tiny_model", version: str = "m1", size: int = 200_000) -> str:
    folder = home / "models" / name / version
    folder.mkdir(parents=True)
    (folder / "model.yaml").write_text(yaml.safe_dump({
        "name": name, "version": version, "module": "bentoml.picklable_model", "labels": {"stage": "test"},
        "options": {}, "metadata": {"accuracy": 0.9}, "context": {
            "framework_name": "", "framework_versions": {}, "bentoml_version": "1.4.40", "python_version": "3.11.7"},
        "signatures": {"__call__": {"batchable": False}}, "api_version": "v1", "creation_time": CREATED},
        sort_keys=False))
    (folder / "saved_model.pkl").write_bytes(os.urandom(size))
    (home / "models" / name / "latest").write_text(version)
    return f"{name}:{version}"


def make_bento(home: Path, name: str = "tiny", version: str = "b1", models: tuple[str, ...] = (),
               service: str = "Tiny") -> str:
    folder = home / "bentos" / name / version
    (folder / "src").mkdir(parents=True)
    (folder / "apis").mkdir()
    (folder / "README.md").write_text(f"# {name}\n\nA tiny test service.\n")
    (folder / "src" / "service.py").write_text(f"import bentoml\n\n@bentoml.service\nclass {service}:\n    pass\n")
    (folder / "apis" / "openapi.yaml").write_text("openapi: 3.0.2\n")
    (folder / "env" / "python").mkdir(parents=True)
    (folder / "env" / "python" / "requirements.txt").write_text("bentoml==1.4.40\n")
    model_infos = [{"tag": tag, "module": "bentoml.picklable_model", "creation_time": CREATED} for tag in models]
    (folder / "bento.yaml").write_text(yaml.safe_dump({
        "service": f"service:{service}", "name": name, "version": version, "bentoml_version": "1.4.40",
        "creation_time": CREATED, "labels": {"owner": "tests"}, "models": [], "entry_service": service,
        "services": [{"name": service, "service": "", "models": model_infos, "dependencies": [], "config": {}}],
        "envs": [{"name": "GREETING", "value": "hi"}], "schema": {}, "args": {}, "spec": 2,
        "image": {"base_image": "python:3.11-slim", "python_version": "3.11", "commands": [],
                  "python_requirements": "bentoml==1.4.40\n", "post_commands": [], "build_include": []}},
        sort_keys=False))
    if models:  # bentoml keeps a models/ folder inside built bentos; it must not be uploaded with the bento
        (folder / "models").mkdir()
        (folder / "models" / "placeholder").write_text("not uploaded")
    (home / "bentos" / name / "latest").write_text(version)
    return f"{name}:{version}"


def tree(folder: Path, skip: str | None = None) -> dict[str, bytes]:
    """Every regular file under ``folder`` (relative path -> bytes)."""
    files = {}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and not (skip and relative.split("/")[0] == skip):
            files[relative] = path.read_bytes()
    return files
