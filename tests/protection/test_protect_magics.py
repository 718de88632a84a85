"""``%bentocloud protect``, the typed-name check of every change in a protected context, against the sandbox.

Without ``--confirm`` or with a wrong name each change is one line and the sandbox receives nothing at
all; with the right name it goes through.
"""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError
from protect_helpers import Shell
from support import ready

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials.protected import is_protected, protected_path
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.sandbox import Sandbox

CHANGES = {  # line (without --confirm) -> the name to type back
    "%bentocloud terminate guarded-one": "guarded-one",
    "%bentocloud update guarded-one --scaling-max 2": "guarded-one",
    "%bentocloud apply summarizer:v3 -n guarded-one --scaling-max 2": "guarded-one",
    "%bentocloud delete guarded-one --yes": "guarded-one",
    "%bentocloud secret delete guarded-secret": "guarded-secret",
}


def _refused(ran: object, wrong: bool) -> bool:
    stderr = getattr(ran, "stderr", "")
    said = "is not" if wrong else "is protected"
    return isinstance(getattr(ran, "error", None), UsageError) and said in stderr and "Traceback" not in stderr


def test_protect_and_unprotect_by_magic(cell: Shell) -> None:
    ran = cell("%bentocloud protect sbx")
    assert ran.error is None and "'sbx' is protected" in ran.text and is_protected("sbx")
    listing = cell("%bentocloud contexts")
    assert "sbx (protected)" in listing.text
    assert "no longer protected" in cell("%bentocloud unprotect sbx").text and not is_protected("sbx")
    assert "sbx (protected)" not in cell("%bentocloud contexts").text


def test_protect_bad_input_is_one_line(cell: Shell) -> None:
    unknown = cell("%bentocloud protect nope")
    assert isinstance(unknown.error, UsageError) and "No context named 'nope'" in unknown.stderr
    assert "Traceback" not in unknown.stderr and not protected_path().exists()
    empty = cell("%bentocloud protect ''")
    assert isinstance(empty.error, UsageError) and not protected_path().exists()
    assert isinstance(cell("%bentocloud protect").error, UsageError)


@pytest.mark.parametrize("line", sorted(CHANGES))
def test_each_change_is_refused_and_nothing_is_sent(cell: Shell, sbx_context: Sandbox, line: str) -> None:
    ready("guarded-one")
    bc.apply_secret("guarded-secret", [("KEY", "value-of-guarded")])
    bc.protect("sbx")
    sbx_context.reset_stats()
    assert _refused(cell(line), wrong=False)
    assert _refused(cell(f"{line} --confirm {CHANGES[line]}x"), wrong=True)
    assert _refused(cell(f"{line} --confirm {CHANGES[line].upper()}"), wrong=True)
    assert sbx_context.stats()["total"] == 0, sbx_context.stats()
    assert "guarded-one" in sbx_context.state.deployments and "guarded-secret" in sbx_context.state.secrets


def test_the_right_name_goes_through(cell: Shell, sbx_context: Sandbox) -> None:
    ready("guarded-two")
    bc.apply_secret("guarded-secret-2", [("KEY", "value-of-guarded")])
    bc.protect("sbx")
    terminated = cell("%bentocloud terminate guarded-two --confirm guarded-two --wait --timeout 20")
    assert terminated.error is None, terminated.stderr
    deleted = cell("%bentocloud delete guarded-two --yes --confirm guarded-two")
    assert deleted.error is None and "guarded-two" not in sbx_context.state.deployments, deleted.stderr
    secret = cell("%bentocloud secret delete guarded-secret-2 --confirm guarded-secret-2")
    assert secret.error is None and "deleted" in secret.text and "guarded-secret-2" not in sbx_context.state.secrets


def test_other_contexts_are_not_asked(cell: Shell, sbx_context: Sandbox) -> None:
    bc.apply_secret("free-secret", [("KEY", "value-of-free")])
    bc.protect("sbx")
    bc.unprotect("sbx")
    assert cell("%bentocloud secret delete free-secret").error is None
    assert "free-secret" not in sbx_context.state.secrets


def test_python_api_words_it_for_python(sbx_context: Sandbox) -> None:
    bc.apply_secret("py-secret", [("KEY", "value-of-py")])
    bc.protect("sbx")
    with pytest.raises(ConfirmationNeeded) as caught:
        bc.delete_secret("py-secret")
    assert "confirm='py-secret'" in str(caught.value)
    assert "deleted" in str(bc.delete_secret("py-secret", confirm="py-secret"))
