"""The shared local flow of `reviewbot diff` and `reviewbot hook`: config, engine, report."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reviewbot.backends import create_backend
from reviewbot.commands.common import exit_code, read_imports
from reviewbot.commands.options import ReportOptions
from reviewbot.config import Config, load_config
from reviewbot.engine import run_review
from reviewbot.errors import ReviewbotError
from reviewbot.linters.run import LinterRun
from reviewbot.progress import progress_for
from reviewbot.reporters import FORMATS
from reviewbot.result import ReviewResult
from reviewbot.sources import ReviewSource

if TYPE_CHECKING:
    from reviewbot.io import IO
    from reviewbot.prepare import Suggester


def local_config(options: ReportOptions, env: Mapping[str, str], root: Path | None) -> Config:
    # The CLI runs suggested tests by default (the server and the Action never do).
    return load_config(
        root, options.config.config, env, options.config_overrides(), defaults={"tests.run": True}
    )


def local_linters(
    config: Config, source: ReviewSource, root: Path | None, env: Mapping[str, str]
) -> LinterRun:
    """Run the configured ``linters:`` on the changed files whose working-tree content is
    the version under review (elsewhere their line numbers would not be the diff's)."""
    if not config.linters or root is None:
        return LinterRun((), ())
    from reviewbot.diff.parse import parse_diff
    from reviewbot.linters.run import run_linters

    changed, differ = [], 0
    for fd in parse_diff(source.diff).files:
        if fd.new_path is None:
            continue
        try:
            here = (root / fd.path).read_bytes()
        except OSError:
            continue
        if source.reader is not None and source.reader.read(fd.path) != here:
            differ += 1
            continue
        changed.append(fd.path)
    clean = {k: v for k, v in env.items() if not k.startswith(("GIT_", "REVIEWBOT_"))}
    run = run_linters(config.linters, root, changed, clean)
    if differ:
        run = LinterRun(
            run.batches,
            (
                *run.problems,
                f"linters skipped {differ} changed "
                "files whose working-tree copy is not the reviewed one",
            ),
        )
    return run


def write_tests(result: ReviewResult, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    out_dir.mkdir(parents=True, exist_ok=True)
    by_path: dict[str, list[str]] = {}
    for t in result.tests:
        if t.shown:
            by_path.setdefault(Path(t.path).name, []).append(t.code)
    for name, codes in by_path.items():
        target = out_dir / name
        target.write_text("\n\n".join(c.rstrip() for c in codes) + "\n", encoding="utf-8")
        written.append(target)
    return written


def _suggester(config: Config) -> Suggester | None:
    """The test suggester when tests are on; imported only then (it pulls in some 50
    modules, ~0.07 s of every run that does not suggest tests)."""
    if not config.tests.enabled:
        return None
    from reviewbot.suggest import load_suggester

    return load_suggester(execute=True)


def review_and_report(
    options: ReportOptions, io: IO, source: ReviewSource, root: Path | None
) -> int:
    config = local_config(options, io.env, root)
    imported = read_imports(options.imports, options.import_format, io.cwd, root or io.cwd)
    linted = local_linters(config, source, root, io.env)
    imported.extend(linted.batches)
    for problem in linted.problems:
        io.stderr.write(f"reviewbot: {problem}\n")
    backend = create_backend(config)
    try:
        result = run_review(
            source,
            config,
            backend,
            progress=progress_for(io.stderr, io.env),
            suggester=_suggester(config),
            imported=imported,
        )
    finally:
        backend.close()
    if linted.problems:  # a linter that did not run is said in every report, not only here
        result = replace(
            result,
            coverage=replace(result.coverage, notes=(*result.coverage.notes, *linted.problems)),
        )
    fmt = options.format
    color = (
        fmt == "text"
        and options.output is None
        and "NO_COLOR" not in io.env
        and getattr(io.stdout, "isatty", lambda: False)()
    )
    report = FORMATS[fmt](result, color)
    if options.output is not None:
        try:
            options.output.write_text(report, encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            raise ReviewbotError(f"cannot write {options.output}: {exc.strerror}") from exc
    else:
        _write(io, report)
    if result.model_error and not (fmt == "text" and options.output is None):
        # (a text report on stdout already carries the "model skipped" note: one line, not two)
        io.stderr.write(f"reviewbot: model skipped, static checks only: {result.model_error}\n")
    for problem in result.problems:
        io.stderr.write(f"reviewbot: {problem}\n")
    if result.weak_test_isolation:
        io.stderr.write(
            f"reviewbot: suggested tests ran without namespace isolation: {result.test_isolation}\n"
        )
    if options.tests_out is not None:
        for p in write_tests(result, options.tests_out):
            io.stderr.write(f"reviewbot: wrote {p}\n")
    return exit_code(result, config)


def _write(io: IO, text: str) -> None:
    try:
        io.stdout.write(text)
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
        buf = getattr(io.stdout, "buffer", None)
        if buf is not None:
            buf.write(data)
        else:
            io.stdout.write(data.decode("utf-8", "replace"))
    io.stdout.flush() if io.stdout is not sys.stdout else None
