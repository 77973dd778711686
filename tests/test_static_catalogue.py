"""Every rule in the catalogue has positive and negative test cases, and valid metadata."""

from __future__ import annotations

import re

from reviewbot.findings import Category
from reviewbot.static.rules import RULES
from tests.docs_support import docs_text
from tests.test_static_cases import CASE_MODULES

_MODULES = CASE_MODULES


def _covered(table: str) -> set[str]:
    return {case[0] for m in _MODULES for case in getattr(m, table)}


def test_every_rule_has_positive_and_negative_cases() -> None:
    assert set(RULES) - _covered("POSITIVE") == set()
    assert set(RULES) - _covered("NEGATIVE") == set()


def test_cases_name_only_known_rules() -> None:
    assert (_covered("POSITIVE") | _covered("NEGATIVE")) - set(RULES) == set()


def test_security_rules_carry_a_cwe() -> None:
    for rule in RULES.values():
        assert rule.id == rule.id.strip() and re.fullmatch(r"(py|js|tpl)\.[a-z0-9-]+", rule.id)
        if rule.category is Category.SECURITY:
            assert rule.cwe and re.fullmatch(r"CWE-\d+", rule.cwe), rule.id
        assert rule.summary


def test_readme_lists_every_rule() -> None:
    readme = docs_text()
    missing = [r for r in RULES if f"`{r}`" not in readme]
    assert missing == []
