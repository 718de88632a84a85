"""Review findings: hostile input to the new verbs is one line, never a traceback; the reveal widget's timer is checked.

Each test failed before its fix: deeply nested YAML/JSON raised RecursionError, an expiry past year 9999 raised
OverflowError, and a NaN ``forget_after`` went straight into ``loop.call_later`` (breaking the timer heap).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Iterator
from pathlib import Path

import ipywidgets as widgets
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bentocloud_jupyter.core.api.tokens import parse_expiry
from bentocloud_jupyter.core.deployments.bento_args import load_config_text, parse_bento_args
from bentocloud_jupyter.core.deployments.options import DeployOptions, load_config_source
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.org_views import NewTokenView
from bentocloud_jupyter.core.rest.org_models import ApiTokenDetails
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.widgets.reveal import TokenReveal

DEEP = "[" * 5000


@pytest.fixture()
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    yield ip
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")


def test_deeply_nested_deploy_cell_is_one_line() -> None:
    with pytest.raises(InvalidInputError, match="nests too deeply"):
        load_config_text(DEEP)


def test_deeply_nested_deploy_cell_in_the_shell_is_a_usage_error(shell: InteractiveShell) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        result = shell.run_cell(f"%%deploy\n{DEEP}\n")  # type: ignore[no-untyped-call]
    assert type(result.error_in_exec).__name__ == "UsageError", repr(result.error_in_exec)
    assert "Traceback" not in err.getvalue()


def test_deeply_nested_arg_file_and_config_file_are_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text(DEEP, encoding="utf-8")
    with pytest.raises(InvalidInputError, match="nests too deeply"):
        parse_bento_args((), str(deep))
    with pytest.raises(InvalidInputError, match="nests too deeply"):
        load_config_source(DeployOptions(name="x", config_file=str(deep)))


def test_deeply_nested_config_dict_is_one_line() -> None:
    with pytest.raises(InvalidInputError, match="nests too deeply"):
        load_config_source(DeployOptions(name="x", config_dict="[" * 100_000))


@pytest.mark.parametrize("value", ["999999w", "0001-01-01"])
def test_expiry_past_the_calendar_is_one_line(value: str) -> None:
    with pytest.raises(InvalidInputError, match="calendar"):
        parse_expiry(value)


def test_expiry_keeps_its_own_messages() -> None:
    with pytest.raises(InvalidInputError, match="not a duration"):
        parse_expiry("garbage")
    with pytest.raises(InvalidInputError, match="not in the future"):
        parse_expiry("2000-01-01")


def _created(secret: str) -> NewTokenView:
    return NewTokenView(ApiTokenDetails(name="<b>t</b>", uid="<i>u</i>"), token=Token(secret))


@pytest.mark.parametrize("seconds", [math.nan, math.inf, -1.0, 0.0])
def test_reveal_refuses_an_unusable_forget_after(seconds: float) -> None:
    with pytest.raises(InvalidInputError, match="forget_after"):
        TokenReveal(_created("tok-review-abcdef123456"), forget_after=seconds)


def _every_trait(root: widgets.Widget) -> str:
    seen: set[int] = set()
    stack, out = [root], []
    while stack:
        w = stack.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        out.append(json.dumps(w.get_state(), default=str))
        for trait in w.trait_names():
            value = getattr(w, trait, None)
            out.append(repr(value))
            stack += [v for v in (value if isinstance(value, (list, tuple)) else [value])
                      if isinstance(v, widgets.Widget)]
    return "\n".join(out)


def test_reveal_forgets_every_trait_and_escapes_server_names() -> None:
    secret = "tok-review-zyxwvu987654"
    panel = TokenReveal(_created(secret))
    assert secret[:5] not in _every_trait(panel)
    assert "<b>t</b>" not in panel.summary.value and "&lt;b&gt;t&lt;/b&gt;" in panel.summary.value
    panel.reveal()
    panel.forget()
    assert secret[:5] not in _every_trait(panel) and secret[:5] not in repr(panel)
    panel.close()


@pytest.mark.parametrize("path", ["/tmp/" + "x" * 300, "/tmp/a\x00b"])
def test_token_output_file_the_os_refuses_is_one_line(path: str) -> None:
    from bentocloud_jupyter.core.api.tokens import create_api_token

    with pytest.raises(InvalidInputError, match="Nothing was sent"):
        create_api_token("t", output_file=path)
