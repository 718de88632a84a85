"""House rules of the package's shape, checked over all of bentocloud_jupyter/ (sandbox included) with ast:
modules of at most 400 lines, functions and methods of at most 40, and no ``_private`` name imported from
another module of the package (make it public when another module needs it)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "bentocloud_jupyter"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def size_offenders(root: Path) -> list[str]:
    """Every module over MAX_MODULE_LINES and every function/method over MAX_FUNCTION_LINES under ``root``.

    A function counts from its ``def`` line to its last line (docstring and nested functions included,
    decorators not), which is what a reader has to hold in their head at once.
    """
    offenders = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(root.parent).as_posix()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{where}: module of {lines} lines")
        for node in ast.walk(ast.parse(text, filename=str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    offenders.append(f"{where}:{node.lineno}: {node.name}() of {length} lines")
    return offenders


def private_imports(root: Path) -> list[str]:
    """Every ``from <module of the package> import _name`` under ``root`` (dunders such as __version__ aside)."""
    package = root.name
    offenders = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root.parent).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if not isinstance(node, ast.ImportFrom):
                continue
            module = node.module or ""
            if node.level == 0 and module.split(".")[0] != package:
                continue  # a third-party or standard module: its privacy is its own business
            for alias in node.names:
                if alias.name.startswith("_") and not (alias.name.startswith("__") and alias.name.endswith("__")):
                    offenders.append(f"{where}:{node.lineno}: {'.' * node.level}{module} import {alias.name}")
    return offenders


def test_modules_and_functions_stay_small() -> None:
    offenders = size_offenders(PACKAGE)
    assert offenders == [], f"over {MAX_MODULE_LINES} lines a module / {MAX_FUNCTION_LINES} a function:\n" + \
        "\n".join(offenders)


def test_the_size_check_can_fail(tmp_path: Path) -> None:
    root = tmp_path / "fakepkg"
    root.mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(45))
    (root / "long.py").write_text(f"def too_long() -> None:\n{body}\n\n\nclass C:\n    def short(self) -> None:\n"
                                  "        pass\n" + "\n" * 400)
    (root / "fine.py").write_text("def ok() -> int:\n    return 1\n")
    offenders = size_offenders(root)
    assert offenders == ["fakepkg/long.py: module of 451 lines", "fakepkg/long.py:1: too_long() of 46 lines"]


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = private_imports(PACKAGE)
    assert offenders == [], "import a public name instead (rename it where it is defined):\n" + "\n".join(offenders)


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    root = tmp_path / "fakepkg"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.py").write_text(
        "from fakepkg.sub.b import _hidden, public\nfrom . import _sibling\nfrom fakepkg._version import __version__\n"
        "from os import _exit\n")
    assert private_imports(root) == ["fakepkg/sub/a.py:1: fakepkg.sub.b import _hidden",
                                     "fakepkg/sub/a.py:2: . import _sibling"]
