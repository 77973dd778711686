"""The project's documentation as the tests read it: README.md and the pages under docs/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"


def doc_pages() -> list[Path]:
    """Every docs/*.md page, sorted."""
    return sorted(DOCS.glob("*.md"))


def doc_page(name: str) -> str:
    """The text of one page, e.g. ``doc_page("configuration.md")``."""
    return (DOCS / name).read_text(encoding="utf-8")


def docs_text() -> str:
    """README.md followed by every docs/*.md page: where a documented claim may live."""
    parts = [README.read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in doc_pages()]
    return "\n".join(parts)
