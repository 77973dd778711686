"""The Python rules skip the module scope when a change touches only definitions (and build
a scope's index on first use): the findings must equal those of analysing every scope.

The reference below is the loop ``python.analyze`` ran before: the module scope and every
touched function, each with every rule family. It runs on every Python case of the rule
tables, with each single line changed, and with every line changed.
"""

from __future__ import annotations

import pytest

from reviewbot.context.extract import SourceFile
from reviewbot.static import python
from reviewbot.static.base import StaticHit
from reviewbot.static.pyctx import Ctx
from reviewbot.static.pynodes import call_name_cache
from reviewbot.static.taint import Scope
from tests.test_static_cases import _cases


def _every_scope(src: SourceFile, changed: frozenset[int]) -> list[StaticHit]:
    tree = src.tree
    assert tree is not None
    with call_name_cache():
        module = Scope(tree.root_node)
        ctx = Ctx(src, changed, module)
        touched = ctx.touched_functions()
        touched.sort(key=lambda fn: (-fn.end_byte, fn.start_byte))
        best: dict[tuple[str, int, int], StaticHit] = {}
        for scope in [module, *(Scope(fn, module) for fn in touched)]:
            for rule in python.SCOPE_RULES:
                for h in rule(ctx, scope):
                    key = (h.cwe or h.rule_id, h.line, h.end_line)
                    old = best.get(key)
                    if old is None or h.severity.rank > old.severity.rank:
                        best[key] = h
    return sorted(best.values(), key=lambda h: (h.line, h.end_line, h.rule_id))


_PY_CASES = [c for c in _cases("POSITIVE") + _cases("NEGATIVE") if str(c.values[1]).endswith(".py")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rule", "path", "code"), _PY_CASES)
def test_findings_equal_every_scope_analysed(rule: str, path: str, code: str) -> None:
    data = code.encode()
    n = data.count(b"\n") + 1
    changes = [frozenset(range(1, n + 1)), *(frozenset({i}) for i in range(1, n + 1))]
    for changed in changes:
        got = python.analyze(SourceFile.from_bytes(path, data), changed)
        want = _every_scope(SourceFile.from_bytes(path, data), changed)
        assert got == want, (rule, sorted(changed))


def test_change_inside_a_function_leaves_module_findings_out_and_in() -> None:
    code = "import yaml\nCONFIG = yaml.load(open('c.yml'))\ndef f(x):\n    return yaml.load(x)\n"
    data = code.encode()
    in_fn = python.analyze(SourceFile.from_bytes("app.py", data), frozenset({4}))
    at_top = python.analyze(SourceFile.from_bytes("app.py", data), frozenset({2}))
    assert [h.line for h in in_fn] == [4]
    assert [h.line for h in at_top] == [2]
