"""What to run next, as data: the core raises, each front end words it.

An error (or a result) carries a :class:`Hint` naming a verb of :mod:`bentocloud_jupyter.core.api` and its
arguments. The Python wording lives here; a front end that is loaded (the IPython magics) registers its
own wording with :func:`register_wording`, so one message reads right wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Hint", "python_words", "register_wording", "sentence"]


@dataclass(frozen=True)
class Hint:
    """Run ``verb`` (a :mod:`~bentocloud_jupyter.core.api` verb) with ``args``; ``why`` says what it is for."""

    verb: str
    args: Mapping[str, Any] = field(default_factory=dict)
    why: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", dict(self.args))


Wording = Callable[[Hint], "str | None"]
"""A front end's spelling of a hint, or None when it has no command for that verb."""


def python_words(hint: Hint) -> str:
    """``bentocloud_jupyter.status('x', wait=True)``: the Python API's spelling of the hint."""
    args = ", ".join(f"{key}={value!r}" for key, value in hint.args.items())
    return f"bentocloud_jupyter.{hint.verb}({args})"


_wordings: dict[str, Wording] = {}


def register_wording(surface: str, words: Wording) -> None:
    """Let a front end (``"magic"``) word hints in its own syntax; the Python form is always given too."""
    _wordings[surface] = words


def sentence(hint: Hint | None, *, surface: str | None = None) -> str:
    """``run `%bentocloud login` (Python: bentocloud_jupyter.login())``, or only one surface's words."""
    if hint is None:
        return ""
    why = f" {hint.why}" if hint.why else ""
    if surface is not None and surface != "python":
        spelled = _wordings[surface](hint) if surface in _wordings else None
        return f"run `{spelled or python_words(hint)}`{why}"
    fronts = [] if surface == "python" else [words for words in (w(hint) for w in _wordings.values()) if words]
    if not fronts:
        return f"run `{python_words(hint)}`{why}"
    return f"run {' or '.join(f'`{words}`' for words in fronts)} (Python: `{python_words(hint)}`){why}"
