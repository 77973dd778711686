"""Linter results in: SARIF, reviewdog's rdjson/rdjsonl, checkstyle XML and a few native
JSON formats become :class:`Diagnostic` records the engine reviews with its own findings.

    from reviewbot.imports.read import read_import

    batch = read_import(Path("ruff.sarif"), repo_root)          # format from the content
    batch = read_import(Path("out.xml"), repo_root, "checkstyle")  # or named
    run_review(source, config, backend, imported=[batch])

The file is untrusted (a CI step wrote it from the pull request's code): its size is
capped, XML with a DOCTYPE (entities) is refused, every path is made relative to the
repository root and results whose path leaves it are dropped and counted. Every problem is
a :class:`~reviewbot.errors.ConfigError` naming the file.
"""

from __future__ import annotations

from reviewbot.imports.model import FORMAT_NAMES, Diagnostic, ImportBatch

__all__ = ["FORMAT_NAMES", "Diagnostic", "ImportBatch"]
