"""pyproject.toml lists its packages by hand: every package under reviewbot/ must be there,
or the wheel the Action installs lacks it (an editable install would hide that)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_reviewbot_package_is_in_the_wheel() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "reviewbot").rglob("__init__.py")
    }
    assert found <= listed, sorted(found - listed)
