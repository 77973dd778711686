"""One test over every rule's case tables: each POSITIVE case triggers its rule, each
NEGATIVE case (many are near misses: the safe variant of the same code) does not.

The tables live next to the rule families' other tests (``tests/test_static_*.py``); a new
rule is a catalogue row, a sink row or rule function, and rows in these tables
(``tests/test_static_catalogue.py`` checks that every catalogued rule has both kinds).
"""

from __future__ import annotations

from types import ModuleType

import pytest

from tests import (
    test_static_bugs,
    test_static_crypto,
    test_static_injection,
    test_static_javascript,
    test_static_paths,
    test_static_security,
    test_static_sinks,
    test_static_web,
)
from tests.static_cases import rule_ids

CASE_MODULES: tuple[ModuleType, ...] = (
    test_static_bugs,
    test_static_crypto,
    test_static_injection,
    test_static_javascript,
    test_static_paths,
    test_static_security,
    test_static_sinks,
    test_static_web,
)


def _cases(table: str) -> list[object]:
    out: list[object] = []
    for module in CASE_MODULES:
        family = module.__name__.rsplit(".", 1)[-1].removeprefix("test_static_")
        for i, case in enumerate(getattr(module, table)):
            rule, path, code = case if len(case) == 3 else (case[0], "app.py", case[1])
            out.append(pytest.param(rule, path, code, id=f"{family}-{rule}-{i}"))
    return out


@pytest.mark.parametrize(("rule", "path", "code"), _cases("POSITIVE"))
def test_rule_fires(rule: str, path: str, code: str) -> None:
    assert rule in rule_ids(code, path=path)


@pytest.mark.parametrize(("rule", "path", "code"), _cases("NEGATIVE"))
def test_rule_stays_quiet(rule: str, path: str, code: str) -> None:
    assert rule not in rule_ids(code, path=path)
