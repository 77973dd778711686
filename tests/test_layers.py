"""The package's layering, read from the source (every import in a module, lazy and
type-only ones included): no import cycle anywhere in ``reviewbot``, and no module importing
from a layer above its own.

    4  entry points   cli, __main__, commands/
    3  flows          github/, server/, suggest/, evaluation/
    2  engine         engine and its stages (prepare, static_stage, ruff_stage, chunking,
                      chunk_item, budget, model_findings, known_findings, filtering),
                      answer_budget
    1  parts          backends/, reporters/, static/, imports/, linters/, diff/, context/,
                      config, sources, placement, anchoring, prompts ...
    0  foundation     errors, findings, coverage, deadline, progress, io, the version

A module may import from its own layer or below. A new module must be placed here; the
test names it when it is not.
"""

from __future__ import annotations

import ast
from itertools import pairwise
from pathlib import Path

import pytest

import reviewbot

ROOT = Path(reviewbot.__file__).parent

LAYERS: dict[str, int] = {
    "reviewbot.cli": 4,
    "reviewbot.__main__": 4,
    "reviewbot.commands": 4,
    "reviewbot.github": 3,
    "reviewbot.server": 3,
    "reviewbot.suggest": 3,
    "reviewbot.evaluation": 3,
    "reviewbot.engine": 2,
    "reviewbot.prepare": 2,
    "reviewbot.static_stage": 2,
    "reviewbot.ruff_stage": 2,
    "reviewbot.model_stage": 2,
    "reviewbot.stage": 2,
    "reviewbot.chunking": 2,
    "reviewbot.chunk_item": 2,
    "reviewbot.budget": 2,
    "reviewbot.model_findings": 2,
    "reviewbot.known_findings": 2,
    "reviewbot.filtering": 2,
    "reviewbot.answer_budget": 2,
    "reviewbot.backends": 1,
    "reviewbot.reporters": 1,
    "reviewbot.static": 1,
    "reviewbot.imports": 1,
    "reviewbot.linters": 1,
    "reviewbot.diff": 1,
    "reviewbot.context": 1,
    "reviewbot.config": 1,
    "reviewbot.config_values": 1,
    "reviewbot.config_yaml": 1,
    "reviewbot.sources": 1,
    "reviewbot.hook_sources": 1,
    "reviewbot.gitio": 1,
    "reviewbot.selection": 1,
    "reviewbot.placement": 1,
    "reviewbot.anchoring": 1,
    "reviewbot.prompts_render": 1,
    "reviewbot.safe_publish": 1,
    "reviewbot.forking": 1,
    "reviewbot.result": 1,
    "reviewbot.token_estimate": 1,
    "reviewbot.errors": 0,
    "reviewbot.findings": 0,
    "reviewbot.coverage": 0,
    "reviewbot.deadline": 0,
    "reviewbot.progress": 0,
    "reviewbot.io": 0,
    "reviewbot": 0,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = ["reviewbot", *path.relative_to(ROOT).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The reviewbot modules ``name`` imports (``from a import b`` names ``a.b`` when that is a
    module, else ``a``); relative imports resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    wanted: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            wanted.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*up, *([node.module] if node.module else [])])
            wanted.add(base)
            wanted.update(f"{base}.{a.name}" for a in node.names)
    out = set()
    for mod in wanted:
        while mod and mod not in known:
            mod = mod.rpartition(".")[0]
        if mod and mod != name:
            out.add(mod)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def layer_of(module: str) -> int | None:
    """The layer of ``module`` or of the package holding it (the top package, the version's
    home, only by its own name: a new top-level module must be placed)."""
    if module == "reviewbot":
        return LAYERS[module]
    while module.count("."):
        if module in LAYERS:
            return LAYERS[module]
        module = module.rpartition(".")[0]
    return None


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` as a path that ends where it starts, or None."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if start in state:
            continue
        stack: list[tuple[str, list[str]]] = [(start, sorted(graph[start]))]
        path, state[start] = [start], 1
        while stack:
            node, todo = stack[-1]
            if not todo:
                stack.pop()
                path.pop()
                state[node] = 2
                continue
            nxt = todo.pop()
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and nxt in graph:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, sorted(graph[nxt])))
    return None


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    out = []
    for name, deps in sorted(graph.items()):
        own = layer_of(name)
        for dep in sorted(deps):
            theirs = layer_of(dep)
            if (
                own is not None
                and theirs is not None
                and theirs > own
                and not dep.startswith(name + ".")
            ):  # a package may re-export its modules
                out.append(f"{name} (layer {own}) imports {dep} (layer {theirs})")
    return out


def test_a_new_top_level_module_has_no_layer_until_placed() -> None:
    assert layer_of("reviewbot.brand_new") is None
    assert layer_of("reviewbot.static.brand_new") == 1
    assert layer_of("reviewbot") == 0


def test_every_module_has_a_layer() -> None:
    unplaced = sorted(name for name in _graph() if layer_of(name) is None)
    assert unplaced == [], "add these modules to LAYERS in tests/test_layers.py"


def test_the_graph_is_read_whole() -> None:
    graph = _graph()
    assert {
        "reviewbot.engine",
        "reviewbot.github.pipeline",
        "reviewbot.static.python",
        "reviewbot.commands.diff",
        "reviewbot.server.ledger",
    } <= graph.keys()
    assert "reviewbot.prepare" in graph["reviewbot.engine"]
    assert "reviewbot.anchoring" in graph["reviewbot.imports.place"]  # a relative or lazy
    assert "reviewbot.engine" in graph["reviewbot.commands.review_flow"]


def test_no_import_cycle_in_the_package() -> None:
    assert find_cycle(_graph()) is None


def test_no_module_imports_from_a_layer_above_it() -> None:
    assert upward_imports(_graph()) == []


@pytest.mark.parametrize(
    ("graph", "has_cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, True),
        ({"a": {"b", "c"}, "b": {"c"}, "c": set()}, False),
        ({"a": {"a"}}, True),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], has_cycle: bool) -> None:
    found = find_cycle(graph)
    assert (found is not None) == has_cycle
    if found is not None:
        assert found[0] == found[-1] and all(b in graph[a] for a, b in pairwise(found))


def test_an_upward_import_is_named() -> None:
    graph = {
        "reviewbot.static.python": {"reviewbot.engine"},
        "reviewbot.engine": {"reviewbot.static.python"},
    }
    assert upward_imports(graph) == [
        "reviewbot.static.python (layer 1) imports reviewbot.engine (layer 2)"
    ]
