"""Hidden markers in everything reviewbot posts (HTML comments GitHub does not render).

* ``<!-- reviewbot:summary -->`` and ``<!-- reviewbot:reviewed=SHA -->`` end the one summary
  comment; the second records the last head SHA reviewed (for incremental re-runs).
* ``<!-- reviewbot:fp=HASH severity=S category=C -->`` ends every inline comment: the
  finding's fingerprint, so a re-run never posts the same finding twice.
* ``<!-- reviewbot:run=ID -->`` ends a review body: after a 5xx, the run looks for it to tell
  whether its review was created before posting again.

Markers are read from the last lines of a body only, and only on comments written by the
bot's account, so text quoted in a suggestion or pasted by someone else cannot fake one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "<!-- reviewbot"
SUMMARY_MARKER = "<!-- reviewbot:summary -->"

_FP = re.compile(
    r"^<!-- reviewbot:fp=([0-9a-f]{6,64})(?: severity=(\w+))?(?: category=(\w+))? -->$"
)
_REVIEWED = re.compile(r"^<!-- reviewbot:reviewed=([0-9a-f]{7,64}) -->$")
_RUN = re.compile(r"^<!-- reviewbot:run=([0-9a-zA-Z._-]{1,80}) -->$")
_TAIL_LINES = 3


def fp_marker(fingerprint: str, severity: str, category: str) -> str:
    return f"<!-- reviewbot:fp={fingerprint} severity={severity} category={category} -->"


def reviewed_marker(sha: str) -> str:
    return f"<!-- reviewbot:reviewed={sha} -->"


def run_marker(run_id: str) -> str:
    return f"<!-- reviewbot:run={run_id} -->"


def _tail(body: str | None) -> list[str]:
    if not body:
        return []
    return [ln.strip() for ln in body.rstrip().splitlines()[-_TAIL_LINES:]]


@dataclass(frozen=True, slots=True)
class FpMarker:
    fingerprint: str
    severity: str | None
    category: str | None


def parse_fp(body: str | None) -> FpMarker | None:
    for line in reversed(_tail(body)):
        m = _FP.match(line)
        if m:
            return FpMarker(m.group(1), m.group(2), m.group(3))
    return None


def is_summary(body: str | None) -> bool:
    return SUMMARY_MARKER in _tail(body)


def parse_reviewed(body: str | None) -> str | None:
    for line in _tail(body):
        m = _REVIEWED.match(line)
        if m:
            return m.group(1)
    return None


def parse_run(body: str | None) -> str | None:
    for line in _tail(body):
        m = _RUN.match(line)
        if m:
            return m.group(1)
    return None
