"""SECURITY.md names, for every guarantee, the tests that prove it: those tests exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_test_security_md_names_exists() -> None:
    doc = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    sources = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tests").glob("test_*.py")}
    everything = "\n".join(sources.values())
    named = re.findall(r"`(?:(test_\w+\.py)::)?(test_\w+)(?!\.py)\b", doc)
    assert len(named) >= 25
    for module, name in named:
        if name == "test_isolation":  # a JSON field, not a test
            continue
        where = sources[module] if module else everything
        assert re.search(rf"^def {name}\(", where, re.MULTILINE), (module, name)
