"""The shape the redesign promised, kept: small modules, short functions, thin entry points.

Limits (CONTRIBUTING.md): a module at most 500 lines, a function at most 60 lines
(signature, docstring and body; module-level tables are not functions, so they are free),
an entry point (the CLI and each command module it dispatches to) at most 100 lines, all
measured on the tree as ``ruff format`` writes it (which the last test checks).
"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from reviewbot.cli import COMMANDS

PACKAGE = Path(__file__).resolve().parent.parent / "reviewbot"
MODULE_LINES = 500
FUNCTION_LINES = 60
ENTRY_POINT_LINES = 100


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def long_functions(source: str, limit: int) -> list[tuple[str, int]]:
    """(qualified name, lines) of every function or method longer than ``limit``."""
    out: list[tuple[str, int]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    size = (child.end_lineno or child.lineno) - first + 1
                    if size > limit:
                        out.append((name, size))
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return out


def test_the_package_is_found() -> None:
    assert len(_modules()) > 100  # a wrong root would make every check below pass


def test_no_module_is_over_500_lines() -> None:
    big = {str(p.relative_to(PACKAGE)): n for p in _modules() if (n := _lines(p)) > MODULE_LINES}
    assert big == {}


def test_no_function_is_over_60_lines() -> None:
    long = {
        f"{p.relative_to(PACKAGE)}:{name}": n
        for p in _modules()
        for name, n in long_functions(p.read_text(encoding="utf-8"), FUNCTION_LINES)
    }
    assert long == {}


@pytest.mark.parametrize("module", ["reviewbot.cli", *(m for m, _ in COMMANDS.values())])
def test_entry_points_are_thin(module: str) -> None:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    assert _lines(Path(spec.origin)) <= ENTRY_POINT_LINES


def test_the_function_measure_counts_nested_and_decorated_functions() -> None:
    body = "\n".join(f"        x{i} = {i}" for i in range(60))
    source = f"class A:\n    @staticmethod\n    def long():\n{body}\n\ndef short():\n    pass\n"
    assert long_functions(source, FUNCTION_LINES) == [("A.long", 62)]
    assert long_functions(source, 62) == []


FORMATTED_WITH = "0.17"
"""The ruff series the tree is formatted with (``ruff format``, ``[tool.ruff.format]``). A
later series may change its style; then this check waits for the tree to be re-formatted in
a commit of its own."""


def test_the_tree_is_formatted_by_ruff() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    assert ruff is not None, "ruff is part of the dev set-up: pip install -e '.[dev]'"
    version = subprocess.run(
        [ruff, "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[-1]
    if not version.startswith(FORMATTED_WITH + "."):
        pytest.skip(f"the tree is formatted with ruff {FORMATTED_WITH}; this is ruff {version}")
    root = PACKAGE.parent
    proc = subprocess.run(
        [ruff, "format", "--check", "reviewbot", "tests", "benchmarks", "examples", "prompts"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
