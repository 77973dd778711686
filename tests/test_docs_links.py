"""README.md links every docs/ page, and every relative link in the docs points at something."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from tests.docs_support import DOCS, README, ROOT, doc_pages

LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~)")


def _prose(text: str) -> str:
    """The text outside fenced code blocks (a `](x)` inside code is not a link)."""
    kept, fenced = [], False
    for line in text.split("\n"):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(line)
    return "\n".join(kept)


def _anchors(text: str) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces as hyphens."""
    out = set()
    for line in _prose(text).split("\n"):
        m = re.match(r"#{1,6} (.+)$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(slug)
    return out


def _links(page: Path) -> list[str]:
    return LINK.findall(_prose(page.read_text(encoding="utf-8")))


def test_docs_pages_exist_and_each_is_linked_from_the_readme() -> None:
    pages = doc_pages()
    assert len(pages) >= 10
    linked = {
        (README.parent / unquote(t.split("#", 1)[0])).resolve()
        for t in _links(README)
        if not re.match(r"[a-z]+:", t)
    }
    missing = [p.name for p in pages if p.resolve() not in linked]
    assert missing == []


def test_relative_links_in_readme_and_docs_point_at_files_and_headings() -> None:
    broken = []
    for page in [README, ROOT / "CONTRIBUTING.md", *doc_pages()]:
        for target in _links(page):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / unquote(path)).resolve() if path else page.resolve()
            if not dest.exists() or not dest.is_relative_to(ROOT):
                broken.append(f"{page.name}: {target}")
            elif (
                anchor
                and dest.suffix == ".md"
                and anchor not in _anchors(dest.read_text(encoding="utf-8"))
            ):
                broken.append(f"{page.name}: {target} (no such heading)")
    assert broken == []


def test_the_link_checker_reads_links_and_headings(tmp_path: Path) -> None:
    page = tmp_path / "p.md"
    page.write_text(
        "# A title: `x`\n\n[ok](#a-title-x) [gone](missing.md)\n"
        "```\n[code](no.md)\n# not a heading\n```\n",
        encoding="utf-8",
    )
    assert _links(page) == ["#a-title-x", "missing.md"]
    assert _anchors(page.read_text(encoding="utf-8")) == {"a-title-x"}
    assert DOCS.is_dir()


PATH_NAME = re.compile(r"`((?:reviewbot|tests|prompts|benchmarks|\.ci|docs)/[\w./-]*)`")


def test_contributing_is_linked_and_the_paths_it_names_exist() -> None:
    guide = ROOT / "CONTRIBUTING.md"
    assert "(CONTRIBUTING.md)" in README.read_text(encoding="utf-8")
    named = PATH_NAME.findall(guide.read_text(encoding="utf-8"))
    assert len(named) >= 10
    assert [n for n in named if not (ROOT / n).exists()] == []
