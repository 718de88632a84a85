"""Tab completion of subcommands, options, contexts, deployments, instance types and clusters."""

from __future__ import annotations

from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import Cell

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.ipython import completion


def complete(shell: InteractiveShell, line: str) -> list[str]:
    from IPython.core.completer import provisionalcompleter

    completion._cache.clear()
    with provisionalcompleter():
        return [c.text for c in shell.Completer.completions(line, len(line))]


def test_subcommands_and_options(shell: InteractiveShell, logged_in: Cell) -> None:
    assert "use" in complete(shell, "%bentocloud u")
    assert {"deployments", "delete"} <= set(complete(shell, "%bentocloud de"))
    assert "--search" in complete(shell, "%bentocloud deployments --s")
    assert "--scaling-max" in complete(shell, "%deploy summarizer --sc")


def test_context_names(shell: InteractiveShell, logged_in: Cell) -> None:
    config.save_context(config.Context("staging", "https://x.example", "staging-token-1234"))
    assert "staging" in complete(shell, "%bentocloud use st")
    assert "sbx" in complete(shell, "%bentocloud logout ")
    assert "staging" in complete(shell, "%bentocloud whoami --context ")


def test_remote_names(shell: InteractiveShell, logged_in: Cell) -> None:
    logged_in("%deploy summarizer -n complete-me")
    assert "complete-me" in complete(shell, "%bentocloud status comp")
    assert "gpu.t4.1" in complete(shell, "%deploy summarizer --instance-type ")
    assert "aws-us-west-2" in complete(shell, "%bentocloud deployments --cluster ")
    assert "summarizer:v3" in complete(shell, "%deploy summ")


def test_completion_never_raises_or_prints_without_credentials(shell: InteractiveShell, capsys) -> None:  # type: ignore[no-untyped-def]
    assert completion.complete_bentocloud(shell, _Event("%bentocloud status ", "")) == []
    assert "use" in complete(shell, "%bentocloud u")
    assert capsys.readouterr() == ("", "")


class _Event:
    def __init__(self, line: str, symbol: str) -> None:
        self.line, self.symbol = line, symbol
