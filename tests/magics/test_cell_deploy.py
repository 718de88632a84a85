"""The ``%%deploy`` cell magic, ``%bentocloud start`` and ``apply``, and ``--arg``/``--arg-file`` on the magics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from magics_helpers import Cell

from bentocloud_jupyter.sandbox import Sandbox

BODY = """name: {name}
bento: summarizer:v3
services:
  Summarizer:
    instance_type: cpu.2
    scaling: {{min_replicas: 1, max_replicas: {high}}}
envs:
  - {{name: LOG_LEVEL, value: debug}}
"""


def _writes(sandbox: Sandbox) -> int:
    return sum(n for route, n in sandbox.stats()["by_route"].items() if route.startswith(("POST", "PUT")))


def _one_line(run: Any, *fragments: str) -> None:
    assert type(run.error) is UsageError, f"expected a UsageError, got {run.error!r}"
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert "Traceback" not in run.stderr and len(lines) == 1 and lines[0].startswith("UsageError: "), run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def _shown(run: Any) -> str:
    return "\n".join([run.text, *(str(d.get("text/plain", "")) for d in run.displayed)])


def test_cell_creates_then_reapplies_and_shows_the_plan(logged_in: Cell, sandbox: Sandbox) -> None:
    first = logged_in(f"%%deploy --wait --timeout 30\n{BODY.format(name='cell-one', high=2)}")
    assert first.error is None, first.stderr
    assert "cell-one" in first.text and "running" in first.text and "cpu.2" in first.text
    before = _writes(sandbox)
    again = logged_in(f"%%deploy\n{BODY.format(name='cell-one', high=2)}")
    assert again.error is None and "No changes" in again.text and _writes(sandbox) == before
    changed = logged_in(f"%%deploy\n{BODY.format(name='cell-one', high=3)}")
    assert changed.error is None, changed.stderr
    shown = _shown(changed)
    assert "services.Summarizer.scaling.max_replicas" in shown and "1 field changes" in shown
    row = next(line for line in shown.splitlines() if "max_replicas" in line and "services" in line)
    assert row.split()[-2:] == ["2", "3"]  # current, then new
    assert _writes(sandbox) == before + 1


def test_cell_dry_run_shows_the_whole_plan_and_sends_nothing(logged_in: Cell, sandbox: Sandbox) -> None:
    logged_in(f"%%deploy --wait --timeout 30\n{BODY.format(name='cell-dry', high=2)}")
    before = _writes(sandbox)
    run = logged_in(f"%%deploy --dry-run\n{BODY.format(name='cell-dry', high=5)}")
    assert run.error is None, run.stderr
    assert "dry run, nothing sent" in run.text and "envs.LOG_LEVEL" in run.text and "bento" in run.text
    assert "<table" in run.html and _writes(sandbox) == before
    new = logged_in(f"%%deploy --dry-run\n{BODY.format(name='cell-not-yet', high=1)}")
    assert new.error is None and "POST /api/v2/deployments" in new.text and _writes(sandbox) == before


def test_cell_name_on_the_line_fills_the_config(logged_in: Cell) -> None:
    run = logged_in("%%deploy cell-named --wait --timeout 30\nbento: summarizer:v3\n")
    assert run.error is None and "cell-named" in run.text


def test_cell_bad_bodies_are_one_line_and_nothing_sent(logged_in: Cell, sandbox: Sandbox) -> None:
    before = _writes(sandbox)
    _one_line(logged_in("%%deploy cell-bad\n- bento\n- summarizer:v3\n"), "mapping", "a list")
    _one_line(logged_in("%%deploy cell-bad\njust words\n"), "mapping", "a str")
    _one_line(logged_in("%%deploy cell-bad\n# only a comment\n"), "mapping", "nothing")
    _one_line(logged_in("%%deploy cell-bad\nbento: [unclosed\n"), "not valid YAML", "line")
    _one_line(logged_in("%%deploy\nbento: summarizer:v3\n"), "name the deployment")
    _one_line(logged_in("%%deploy cell-bad\nbento: summarizer:v3\nscalling: 2\n"), "scalling")
    _one_line(logged_in("%%deploy cell-bad --arg oops\nbento: summarizer:v3\n"), "KEY=VALUE")
    assert _writes(sandbox) == before


def test_start_follows_a_terminated_deployment_back(logged_in: Cell) -> None:
    logged_in("%deploy summarizer:v3 -n magic-start --wait --timeout 30")
    _one_line(logged_in("%bentocloud start magic-start"), "not terminated", "%bentocloud status magic-start")
    logged_in("%bentocloud terminate magic-start --wait --timeout 30")
    run = logged_in("%bentocloud start magic-start --wait --timeout 30")
    assert run.error is None, run.stderr
    assert "running" in run.text and "Starting 'magic-start' again" in run.text


def test_apply_file_and_name_from_the_line(logged_in: Cell, tmp_path: Path) -> None:
    path = tmp_path / "dep.yaml"
    path.write_text("bento: summarizer:v3\nenvs: [{name: LOG_LEVEL, value: warning}]\n", encoding="utf-8")
    run = logged_in(f"%bentocloud apply -f {path} -n magic-apply --wait --timeout 30")
    assert run.error is None, run.stderr
    got = json.loads(logged_in("%bentocloud get magic-apply -o json").text)
    assert got["envs"] == [{"name": "LOG_LEVEL", "value": "warning"}]
    dict_run = logged_in("%bentocloud apply --config-dict '{\"name\": \"magic-apply\", \"bento\": \"summarizer:v2\"}' "
                         "--dry-run")
    assert "summarizer:v3" in dict_run.text and "summarizer:v2" in dict_run.text


def test_bento_args_on_deploy_and_update(logged_in: Cell, sandbox: Sandbox, tmp_path: Path) -> None:
    run = logged_in("%deploy summarizer:v3 -n magic-args --arg model=small,size=2 --arg x=1 --wait --timeout 30")
    assert run.error is None, run.stderr
    assert "bento arguments apply when building a project folder" in run.text
    args = tmp_path / "args.yaml"
    args.write_text("model: large\n", encoding="utf-8")
    updated = logged_in(f"%bentocloud update magic-args --arg-file {args} --scaling-max 2 --wait --timeout 30")
    assert updated.error is None and "model" in updated.text
    before = _writes(sandbox)
    _one_line(logged_in("%deploy summarizer:v3 -n magic-args2 --arg =nokey"), "KEY=VALUE")
    _one_line(logged_in(f"%deploy summarizer:v3 -n magic-args2 --arg-file {tmp_path / 'gone.yaml'}"),
              "--arg-file", "does not exist")
    args.write_text("- not\n- a mapping\n", encoding="utf-8")
    _one_line(logged_in(f"%bentocloud update magic-args --arg-file {args}"), "mapping")
    assert _writes(sandbox) == before


def test_cell_magic_is_registered_and_removed_with_the_extension(shell: Any) -> None:
    assert "deploy" in shell.magics_manager.magics["cell"]
    shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    assert "deploy" not in shell.magics_manager.magics["cell"]
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    assert "deploy" in shell.magics_manager.magics["cell"]
