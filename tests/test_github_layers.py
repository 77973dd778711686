"""The GitHub flow's module layering, read from the source (imports anywhere in a module,
lazy and type-only ones included): no cycles inside ``reviewbot.github``, nothing there
reaching up into the commands or the CLI, and reading kept apart from writing."""

from __future__ import annotations

import ast
from pathlib import Path

import reviewbot.github

PACKAGE = Path(reviewbot.github.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from a import b`` also names
    ``a.b``, which may be a module)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _graph() -> dict[str, set[str]]:
    modules = {
        f"reviewbot.github.{p.stem}": p for p in PACKAGE.glob("*.py") if p.stem != "__init__"
    }
    return {
        name: {m for m in _imports(path) if m in modules}
        | {m for m in _imports(path) if not m.startswith("reviewbot.github")}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, set()) & graph.keys()):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_package_is_read_whole() -> None:
    graph = _graph()
    assert {
        "reviewbot.github.flow",
        "reviewbot.github.pipeline",
        "reviewbot.github.outcome",
        "reviewbot.github.reader",
        "reviewbot.github.publisher",
    } <= graph.keys()
    assert "reviewbot.github.outcome" in graph["reviewbot.github.pipeline"]


def test_no_import_cycle_inside_the_github_package() -> None:
    assert _cycle(_graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_nothing_in_github_imports_the_commands_or_the_cli() -> None:
    upward = {
        name: sorted(m for m in deps if m.startswith(("reviewbot.commands", "reviewbot.cli")))
        for name, deps in _graph().items()
    }
    assert {name: deps for name, deps in upward.items() if deps} == {}


def test_the_pipeline_does_not_import_the_entry_point() -> None:
    assert "reviewbot.github.flow" not in _graph()["reviewbot.github.pipeline"]


def test_reading_does_not_import_writing() -> None:
    graph = _graph()
    writing = {
        "reviewbot.github.publisher",
        "reviewbot.github.checks",
        "reviewbot.github.publish_step",
        "reviewbot.github.pipeline",
        "reviewbot.github.flow",
    }
    for reading in (
        "reviewbot.github.reader",
        "reviewbot.github.state",
        "reviewbot.github.read_step",
    ):
        assert not graph[reading] & writing, reading
    assert "reviewbot.github.state" in graph["reviewbot.github.publisher"]


def test_the_outcome_is_built_in_one_place() -> None:
    tree = ast.parse((PACKAGE / "pipeline.py").read_text(encoding="utf-8"))
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id == "PublishOutcome"
    ]
    assert len(calls) == 1
