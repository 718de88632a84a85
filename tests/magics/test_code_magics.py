"""`%bentocloud code` and the `%%bentocloud write FILE` cell in an IPython shell: the parser hands the verb its
keywords, a codespace result is shown (panel or text), a write cell answers in one line, and bad input is one
line, never a traceback. The `cell` fixture checks that no token reaches any output."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from magics_helpers import Cell, Run

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.ipython.code_frontend import human_size, written_line
from bentocloud_jupyter.ipython.parsers import SUBCOMMANDS

verbs = importlib.import_module("bentocloud_jupyter.core.api.codespaces")  # the module (api.codespaces is a verb)


def one_line(run: Run, *fragments: str) -> None:
    assert type(run.error) is UsageError, f"expected a UsageError, got {run.error!r}"
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("UsageError: ") and "Traceback" not in run.stderr, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


class Recorded:
    """A codespace handle as the verb returns it (only what present() and the text need)."""

    def __init__(self, name: str) -> None:
        self.state = CodespaceState(name=name, context="sbx", project=Path("proj"), phase=Phase.SYNCING)

    def __repr__(self) -> str:
        return f"codespace {self.state.name}: {self.state.phase.value}"


def test_code_is_in_the_help_and_has_its_own() -> None:
    assert "code" in SUBCOMMANDS and SUBCOMMANDS["code"].verb == "api.code"


def test_code_help(cell: Cell) -> None:
    run = cell("%bentocloud code --help")
    assert run.error is None and "--attach NAME" in run.text and "--instance-type" in run.text
    assert "--ttl DURATION" in run.text and "%%bentocloud write FILE" in run.text
    assert "code" in cell("%bentocloud help").text


def test_the_line_becomes_the_verb_keywords(cell: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def code(**kwargs: Any) -> Recorded:
        calls.append(kwargs)
        return Recorded("cs-demo")

    monkeypatch.setattr(api, "code", code)
    run = cell("%bentocloud code ./proj --cluster c1 --instance-type gpu.t4 --env A=1 --env B --secret s1 "
               "--arg k=v --ttl 30m --context sbx")
    assert run.error is None and run.text == "codespace cs-demo: syncing"  # no widget manager: the handle's text
    assert calls == [{"path": "./proj", "attach": None, "list": False, "cluster": "c1", "instance_type": "gpu.t4",
                      "envs": ["A=1", "B"], "secrets": ["s1"], "args": ["k=v"], "ttl": "30m", "context": "sbx"}]
    cell("%bentocloud code --attach cs-other")
    cell("%bentocloud code --list")
    assert calls[1]["attach"] == "cs-other" and calls[1]["path"] is None and calls[2]["list"] is True


def test_the_default_context_of_the_magics_is_used(cell: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    monkeypatch.setattr(api, "code", lambda **kw: seen.append(kw["context"]) or Message("listed"))
    cell("%config BentoCloudMagics.context = 'elsewhere'")
    try:
        assert cell("%bentocloud code --list").text == "listed"
    finally:
        cell("%config BentoCloudMagics.context = None")
    assert seen == ["elsewhere"]


def test_bad_lines_are_one_line(cell: Cell) -> None:
    one_line(cell("%bentocloud code a b"), "unrecognized arguments")
    one_line(cell("%bentocloud code --nope"), "unrecognized arguments")
    one_line(cell("%bentocloud code 'bad\x01path'"), "control characters")
    one_line(cell("%bentocloud code " + "x" * 300), "too long")


def test_write_cell_without_a_codespace_only_writes(cell: Cell, monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(verbs, "attached", lambda: None)
    run = cell("%%bentocloud write pkg/service.py\nimport bentoml\n")
    assert run.error is None and run.text == "wrote pkg/service.py (15 B); no codespace attached, so only written"
    assert (tmp_path / "pkg" / "service.py").read_text() == "import bentoml\n"
    one_line(cell("%%bentocloud write ../outside.py\nx = 1\n"), "not a file path inside the project")
    assert not (tmp_path.parent / "outside.py").exists()


def test_write_cell_into_the_attached_codespace(cell: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[tuple[str, str]] = []

    class Attached(Recorded):
        loop = None

        def write(self, file: str, text: str) -> Message:
            written.append((file, text))
            return Message("Wrote it.")

    handle = Attached("cs-demo")
    monkeypatch.setattr(verbs, "attached", lambda: handle)
    run = cell("%%bentocloud write service.py\n" + "y" * 1500)
    assert run.error is None and written == [("service.py", "y" * 1500 + "\n")]
    assert run.text == "wrote service.py (1.5 kB); synced to codespace cs-demo"
    handle.write = lambda file, text: Message("Wrote it; codespace 'cs-demo' is detached, so nothing was synced.",
                                              "warning")  # type: ignore[method-assign]
    assert cell("%%bentocloud write service.py\nx = 1\n").text.endswith("is detached, so nothing was synced.")


def test_write_cell_bad_lines_are_one_line(cell: Cell) -> None:
    one_line(cell("%%bentocloud write\nx = 1\n"), "takes one FILE, got no FILE")
    one_line(cell("%%bentocloud write a.py b.py\nx = 1\n"), "takes one FILE, got 2 words")
    one_line(cell("%%bentocloud write 'a\x02.py'\nx = 1\n"), "control characters")
    one_line(cell("%%bentocloud nope x.py\nx = 1\n"), "only writes files")


def test_sizes_and_lines() -> None:
    assert [human_size(n) for n in (0, 999, 1000, 1234, 1_000_000, 5 * 10**12)] == [
        "0 B", "999 B", "1.0 kB", "1.2 kB", "1.0 MB", "5000.0 GB"]
    assert written_line("s.py", 1200, "cs") == "wrote s.py (1.2 kB); synced to codespace cs"
    assert written_line("s.py", 5, "cs", live=True) == ("wrote s.py (5 B); syncing to codespace cs (the panel "
                                                        "shows the reload)")


SERVICE = '''import bentoml


@bentoml.service
class Hello:
    @bentoml.api
    def greet(self, name: str = "world") -> str:
        return name
'''


def dev_deployment(name: str) -> None:
    """A dev deployment made from a sandbox bento (creating one from a folder needs bentoml installed)."""
    api.deploy("summarizer", name=name, config_dict={"dev": True}, wait=True, timeout=60)


def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "bentofile.yaml").write_text('service: "service:Hello"\n')
    (root / "service.py").write_text(SERVICE)
    return root


def test_attach_sync_and_write_against_the_sandbox(logged_in: Cell, tmp_path: Path) -> None:
    dev_deployment("mc-code")
    root = project(tmp_path)
    run = logged_in(f"%bentocloud code {root} --attach mc-code")  # no loop here: one blocking sync
    try:
        assert run.error is None and "mc-code" in run.text, run.stderr
        handle = verbs.attached()
        assert handle is not None and handle.state.phase is Phase.READY and handle.state.api_names == ("greet",)
        run = logged_in("%%bentocloud write service.py\n" + SERVICE.replace("greet", "shout"))
        assert run.error is None and run.text.startswith("wrote service.py (") and "synced to codespace mc-code" in \
            run.text
        assert handle.state.api_names == ("shout",) and "shout" in (root / "service.py").read_text()
        listed = logged_in("%bentocloud code --list")
        assert listed.error is None and "mc-code" in listed.text
    finally:
        handle = verbs.attached()
        if handle is not None:
            handle.detach()
        logged_in("%bentocloud delete mc-code --yes")


def test_code_bad_input_is_one_line(logged_in: Cell, tmp_path: Path) -> None:
    root = project(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line(logged_in(f"%bentocloud code {empty} --attach x"), "BentoML project")
    api.deploy("summarizer", name="mc-plain", wait=True, timeout=60)
    try:
        one_line(logged_in(f"%bentocloud code {root} --attach mc-plain"), "not a codespace")
    finally:
        logged_in("%bentocloud delete mc-plain --yes")
    one_line(logged_in(f"%bentocloud code {root} --attach mc-ghost"), "mc-ghost")
