"""``%bentocloud secret ...`` and ``%bentocloud api-token ...`` in a shell with the extension, on the sandbox.

Every value and token made here is added to the recorder's SECRETS: after each test none of them may
appear in any output, warning or log record of the cell.
"""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from IPython.core.error import StdinNotImplementedError, UsageError
from magics_helpers import SECRETS, Cell
from test_parsers import _compare

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.ipython import frontend
from bentocloud_jupyter.ipython.org_parsers import ACTIONS
from bentocloud_jupyter.sandbox import Sandbox

PROMPTED = "prompted-value-never-shown"
TYPED = "typed-value-never-shown"
SECRETS.update({PROMPTED, TYPED})


@pytest.mark.parametrize(("family", "action"), [(f, a) for f, actions in ACTIONS.items() for a in actions])
def test_each_action_parser_matches_its_verb(family: str, action: str) -> None:
    entry = ACTIONS[family][action]
    _compare(entry.parser, getattr(api, entry.verb.partition(".")[2]), set())


def _token_of(sandbox: Sandbox, name: str) -> str:
    (rec,) = [t for t in sandbox.state.tokens.values() if t.name == name]
    SECRETS.add(rec.token)
    return str(rec.token)


def test_help_lists_the_families(cell: Cell) -> None:
    overview = cell("%bentocloud help").text
    assert "secret " in overview and "api-token " in overview and "secrets" in overview
    assert "create" in cell("%bentocloud secret --help").text
    assert "--from-file" in cell("%bentocloud secret create --help").text
    assert "--save-as" in cell("%bentocloud api-token create --help").text


def test_a_bare_key_is_asked_for_hidden(logged_in: Cell, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or PROMPTED)
    run = logged_in("%bentocloud secret create hf-magic HF_TOKEN --stage all -d 'for HF'")
    assert run.error is None, run.stderr
    assert asked == ["Value of HF_TOKEN (hidden): "] and run.warnings == []
    assert "Secret 'hf-magic' created" in run.text and "HF_TOKEN" in run.text
    assert sandbox.state.secrets["hf-magic"].content["items"][0]["value"] == PROMPTED
    listing = logged_in("%bentocloud secrets")
    assert "hf-magic" in listing.text and "<table" in listing.html and "gcp-us-central-1" in listing.text
    assert '"HF_TOKEN"' in logged_in("%bentocloud secret list --search hf-magic -o json").text
    assert "deleted" in logged_in("%bentocloud secret delete hf-magic").text


def test_a_value_on_the_line_works_but_warns(logged_in: Cell, sandbox: Sandbox) -> None:
    run = logged_in(f"%bentocloud secret apply typed-magic KEY={TYPED} --cluster aws-us-west-2")
    assert run.error is None, run.stderr
    assert any("stored in this notebook" in w for w in run.warnings)
    assert sandbox.state.secrets["typed-magic"].cluster == "aws-us-west-2"
    logged_in("%bentocloud secret delete typed-magic")


def test_headless_bare_key_says_how_to_pass_it(logged_in: Cell, sandbox: Sandbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def no_stdin(prompt: str = "") -> str:
        raise StdinNotImplementedError("no stdin")

    monkeypatch.setattr("getpass.getpass", no_stdin)
    run = logged_in("%bentocloud secret create headless HF_TOKEN")
    assert isinstance(run.error, UsageError) and "no stdin" in run.stderr and "HF_TOKEN=@FILE" in run.stderr
    assert "Traceback" not in run.stderr and "headless" not in sandbox.state.secrets


@pytest.mark.parametrize(("line", "words"), [
    ("%bentocloud secret create x K=v --cluster mars-1", "No cluster 'mars-1'"),
    ("%bentocloud secret create x K=@/no/such/file", "no such file"),
    ("%bentocloud secret create x K=v --from-file /no/such.env", "no such file"),
    ("%bentocloud secret create x K=v --stage sometimes", "invalid choice"),
    ("%bentocloud secret delete ghost", "No secret 'ghost'"),
    ("%bentocloud secret frobnicate", "unknown action"),
    ("%bentocloud api-token create t --scope root --save-as t", "Unknown scope 'root'"),
    ("%bentocloud api-token create t --expires tomorrow --save-as t", "not a duration"),
    ("%bentocloud api-token create t", "--save-as CONTEXT or --output-file PATH"),
    ("%bentocloud api-token get ghost", "No API token"),
])
def test_bad_input_is_one_line(logged_in: Cell, sandbox: Sandbox, line: str, words: str) -> None:
    before = sandbox.stats()["by_route"]
    run = logged_in(line)
    assert isinstance(run.error, UsageError) and words in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    after = sandbox.stats()["by_route"]
    assert {r: n for r, n in after.items() if r.startswith(("POST", "PATCH", "DELETE"))} == \
        {r: n for r, n in before.items() if r.startswith(("POST", "PATCH", "DELETE"))}


def test_api_token_save_as_and_output_file(logged_in: Cell, sandbox: Sandbox, tmp_path: Path) -> None:
    run = logged_in("%bentocloud api-token create ci-magic -s read_cluster -s write_cluster --expires 1w "
                    "--save-as ci-magic")
    assert run.error is None, run.stderr
    value = _token_of(sandbox, "ci-magic")
    assert "saved as context 'ci-magic'" in run.text and config.get_context("ci-magic").api_token == value
    target = tmp_path / "t.txt"
    assert logged_in(f"%bentocloud api-token create file-magic --output-file {target}").error is None
    assert target.read_text().strip() == _token_of(sandbox, "file-magic")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    listing = logged_in("%bentocloud api-tokens")
    assert "ci-magic" in listing.text and "read_cluster, write_cluster" in listing.text
    assert "ci-magic" in logged_in("%bentocloud api-token list --search ci").text
    assert "write_cluster" in logged_in("%bentocloud api-token get ci-magic").text
    assert "deleted" in logged_in("%bentocloud api-token delete ci-magic").text
    assert "deleted" in logged_in("%bentocloud api-token delete file-magic").text


def test_a_new_token_is_revealed_once_then_forgotten(logged_in: Cell, sandbox: Sandbox) -> None:
    from bentocloud_jupyter.widgets.reveal import TokenReveal

    panel = frontend.api_token("create", {"name": "once", "scopes": None, "expires": None, "description": None,
                                          "save_as": None, "output_file": None}, None, widgets=True)
    value = _token_of(sandbox, "once")
    assert isinstance(panel, TokenReveal) and panel.holds_token and panel.field.value == ""
    assert value not in repr(panel) + panel.summary.value
    panel.reveal()
    assert panel.field.value == value
    panel.field.value = "edited"
    assert panel.field.value == value  # the field is for copying only
    panel.forget()
    assert panel.field.value == "" and not panel.holds_token and panel.reveal_button.disabled
    panel.reveal()
    assert panel.field.value == ""  # once
    panel.close()
    api.delete_api_token("once")
