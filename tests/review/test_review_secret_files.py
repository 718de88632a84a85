"""Review finding: ``KEY=@FILE`` and ``--from-file`` with a path the OS refuses (a name over 255 bytes, a NUL) were
an OSError/ValueError traceback from ``Path.is_file()``; now one InvalidInputError, and nothing is sent."""

from __future__ import annotations

import pytest

from bentocloud_jupyter.core.api.secret_values import read_dotenv, read_pairs
from bentocloud_jupyter.core.errors import InvalidInputError

ODD = ["/tmp/" + "y" * 300, "/tmp/a\x00b"]


@pytest.mark.parametrize("path", ODD)
def test_at_file_with_an_unusable_path_is_one_line(path: str) -> None:
    with pytest.raises(InvalidInputError, match="Nothing was sent"):
        read_pairs([f"K=@{path}"])


@pytest.mark.parametrize("path", ODD)
def test_dotenv_with_an_unusable_path_is_one_line(path: str) -> None:
    with pytest.raises(InvalidInputError, match="Nothing was sent"):
        read_dotenv(path)


def test_a_missing_file_keeps_its_message() -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        read_pairs(["K=@/nonexistent/review/file"])
