"""CWE ids of well-known security rule codes, so one issue reported by two tools (ruff's S608
and reviewbot's ``py.sql-injection``) is recognised as one (see ``reviewbot.imports.dedupe``).

Only codes whose meaning is unambiguous are listed; an unknown code simply has no CWE.
"""

from __future__ import annotations

# flake8-bandit codes as ruff names them ("S" + bandit's number); bandit itself uses "B".
_BANDIT = {
    "102": "CWE-78",
    "105": "CWE-798",
    "106": "CWE-798",
    "107": "CWE-798",
    "108": "CWE-377",
    "301": "CWE-502",
    "302": "CWE-502",
    "307": "CWE-95",
    "323": "CWE-295",
    "324": "CWE-327",
    "501": "CWE-295",
    "506": "CWE-502",
    "602": "CWE-78",
    "604": "CWE-78",
    "605": "CWE-78",
    "608": "CWE-89",
    "701": "CWE-79",
    "702": "CWE-79",
    "704": "CWE-79",
    "202": "CWE-22",
}
_ESLINT = {"no-eval": "CWE-95", "no-implied-eval": "CWE-95", "no-new-func": "CWE-95"}


def code_cwe(tool: str, code: str) -> str | None:
    """The CWE of ``tool``'s rule ``code`` when it is a known security rule, else None."""
    upper = code.upper()
    bandit_style = upper[:1] in ("S", "B") and upper[1:].isdigit()
    if tool in ("ruff", "flake8", "flake8-bandit") and bandit_style and upper[0] == "S":
        return _BANDIT.get(upper[1:])
    if tool == "bandit" and bandit_style and upper[0] == "B":
        return _BANDIT.get(upper[1:])
    if tool == "eslint":
        return _ESLINT.get(code)
    return None
