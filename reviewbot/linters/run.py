"""Running ``linters:`` entries on the changed files (local reviews only: see the package doc).

Each linter runs with ``cwd`` = the repository root, stdin closed, the changed files that
match its globs appended to its argv (a name starting with ``-`` gets ``./`` so it cannot
be read as an option), its output capped at the import size limit and a timeout after which
its whole process group is killed. A linter that cannot run, times out or writes nothing
readable is a *problem* (a line on stderr), not a failed review: the other
linters and the built-in checks still count.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import ConfigError
from reviewbot.imports.model import ImportBatch
from reviewbot.imports.read import MAX_IMPORT_BYTES, parse_import
from reviewbot.linters.spec import LinterConfig
from reviewbot.selection import match_glob

MAX_FILES = 2000
"""Changed files passed to one linter at most (the rest are left out, with a note)."""


@dataclass(frozen=True, slots=True)
class LinterRun:
    batches: tuple[ImportBatch, ...]
    problems: tuple[str, ...]


def run_linters(
    linters: Sequence[LinterConfig], root: Path, changed: Sequence[str], env: Mapping[str, str]
) -> LinterRun:
    """Run each of ``linters`` on the ``changed`` paths (repository-relative) it applies to."""
    batches: list[ImportBatch] = []
    problems: list[str] = []
    for lt in linters:
        files = [p for p in changed if not lt.files or any(match_glob(p, g) for g in lt.files)]
        if not files:
            continue
        if len(files) > MAX_FILES:
            problems.append(
                f"linter {lt.name}: {len(files) - MAX_FILES} of {len(files)} "
                "matching files were not passed to it"
            )
            files = files[:MAX_FILES]
        argv = [*lt.command, *(f"./{p}" if p.startswith("-") else p for p in files)]
        out, why = _run(argv, root, env, lt.timeout)
        if why is not None:
            problems.append(f"linter {lt.name} {why}")
            continue
        if not out.strip():
            continue  # nothing found (most linters print nothing then)
        try:
            batches.append(parse_import(out, f"linter {lt.name}", root, lt.format))
        except ConfigError as exc:
            problems.append(f"linter {lt.name}: its output could not be read: {exc.message}")
    return LinterRun(tuple(batches), tuple(problems))


def _run(
    argv: list[str], root: Path, env: Mapping[str, str], timeout: float
) -> tuple[bytes, str | None]:
    # Output goes to temporary files, not pipes: nothing is held in memory beyond the cap.
    with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
        try:
            proc = subprocess.Popen(
                argv,
                cwd=root,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
                start_new_session=True,
            )
        except OSError as exc:
            return b"", f"could not be started: {argv[0]}: {exc.strerror or exc}"
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            return b"", f"timed out after {timeout:g} s (its results are missing)"
        if os.fstat(out_f.fileno()).st_size > MAX_IMPORT_BYTES:
            return b"", f"wrote more than {MAX_IMPORT_BYTES >> 20} MB (its results are missing)"
        out_f.seek(0)
        out = out_f.read()
        err_f.seek(max(0, os.fstat(err_f.fileno()).st_size - 4096))
        err = err_f.read()
    if not out.strip() and proc.returncode not in (0, 1):
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        return b"", f"failed (exit {proc.returncode}): {tail[0][:300]}"
    return out, None


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()
