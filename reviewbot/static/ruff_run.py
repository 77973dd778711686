"""ruff as a built-in static source: one ``ruff check`` per review, over the changed files.

The engine starts ruff (:func:`start`) before its own static checks and collects the answer
(:meth:`RuffJob.collect`) after them, so the two run at the same time. ruff sees a private
copy of the head files (a temporary directory; each file keeps its base name, in a
numbered folder of its own), never the reviewed checkout: ``--isolated``
ignores every configuration file (the repository's ``[tool.ruff]`` is not ours to apply),
while the files' own ``# noqa`` comments are honoured by ruff itself. The binary is the
one installed with reviewbot (``ruff.find_ruff_bin()``), never one found in the reviewed
repository or on PATH.

Whatever goes wrong (no binary, a timeout, a crash, output that is not the JSON we expect)
the review goes on without ruff's findings, and :attr:`RuffOutcome.note` says why.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from reviewbot.config import RuffConfig
from reviewbot.static.base import StaticHit
from reviewbot.static.ruff_rules import PARTIAL_UNSAFE, RUFF_RULES, rule_for

MAX_SHM_BYTES = 64 * 1024 * 1024
"""Largest copy put on a RAM disk (/dev/shm)."""
MAX_OUTPUT = 64 * 1024 * 1024
"""Bytes of JSON read back from ruff; more is treated as a failure."""
_ENV = {"NO_COLOR": "1", "RUFF_NO_CACHE": "true"}
"""ruff's whole environment: nothing of the caller's (no RUFF_* settings) reaches it."""
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")
_CODE = re.compile(r"[A-Z]{1,4}[0-9]{1,4}")


@dataclass(frozen=True, slots=True)
class RuffHit:
    code: str
    line: int
    end_line: int
    message: str
    name: str
    fix: tuple[int, int, str] | None = None
    """ruff's safe fix of a one-line finding as (start column, end column, new text):
    1-based character columns on the finding's line."""


@dataclass(frozen=True, slots=True)
class RuffOutcome:
    hits: Mapping[str, Sequence[RuffHit]] = field(default_factory=dict)
    """By reviewed path."""
    note: str | None = None
    """Why ruff's findings are missing, when they are."""


def locate_ruff() -> str | None:
    """The ruff binary installed with reviewbot's Python, or None."""
    try:
        from ruff import find_ruff_bin
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except (FileNotFoundError, OSError):
        return None


def selection(settings: RuffConfig) -> list[str]:
    """The curated codes and ``extend_select``, less ``ignore``. (In ruff an explicit code
    outranks a prefix, ``--select B006 --ignore B`` keeps B006: so the ignored codes are
    dropped here, and ``ignore: [B]`` means every B code.)"""
    extra = [c for c in settings.extend_select if c not in RUFF_RULES]
    return [c for c in sorted(RUFF_RULES) + extra if not c.startswith(tuple(settings.ignore))]


def scratch_root(size: int, shm: str = "/dev/shm") -> str | None:
    """Where to copy ``size`` bytes of files for ruff: a RAM disk when there is one and the
    copy is small (writing 240 files there takes a tenth of the time it takes on a disk),
    else the usual temporary directory (None)."""
    if size <= MAX_SHM_BYTES and os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


def command(binary: str, settings: RuffConfig, files: Sequence[str]) -> list[str]:
    """The ``ruff check`` command line for ``files`` (relative paths under ``whole/`` or
    ``partial/``; the second kind skips :data:`PARTIAL_UNSAFE`)."""
    cmd = [
        binary,
        "check",
        "--isolated",
        "--no-cache",
        "--exit-zero",
        "--quiet",
        "--output-format",
        "json",
        "--target-version",
        "py311",
        "--select",
        ",".join(selection(settings)),
    ]
    if settings.ignore:
        cmd += ["--ignore", ",".join(settings.ignore)]
    if any(f.startswith("partial/") for f in files):
        unsafe = ", ".join(f'"{c}"' for c in sorted(PARTIAL_UNSAFE))
        cmd += ["--config", f'lint.per-file-ignores = {{"partial/**" = [{unsafe}]}}']
    return [*cmd, "--", *files]


def _safe_base(path: str) -> str:
    base = _SAFE_NAME.sub("_", path.replace("\\", "/").rsplit("/", 1)[-1])[-80:]
    suffix = ".pyi" if base.endswith(".pyi") else ".py"
    return base if base.endswith(suffix) and base.strip("._") else f"file{suffix}"


class RuffJob:
    """A running ``ruff check`` of ``files``: (reviewed path, head bytes, whether they are
    the whole file). Use as a context manager so the process and the temporary directory
    go away even when the review fails in between."""

    def __init__(
        self,
        files: Sequence[tuple[str, bytes, bool]],
        settings: RuffConfig,
        binary: str | None,
        clock: Callable[[], float] = time.monotonic,
        *,
        threads: int | None = None,
    ) -> None:
        """``threads``: how many threads ruff may use (None: one per CPU)."""
        self._settings = settings
        self._clock = clock
        self._paths: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._note: str | None = None
        self._started = clock()
        if not files or not selection(settings):
            return
        if binary is None:
            self._note = "ruff is not installed (pip install ruff): its checks were skipped"
            return
        self._dir = Path(
            tempfile.mkdtemp(
                prefix="reviewbot-ruff-", dir=scratch_root(sum(len(data) for _, data, _ in files))
            )
        )
        try:
            args = []
            for i, (path, data, whole) in enumerate(files):
                # a folder of its own: siblings would make packages and modules of each other
                rel = f"{'whole' if whole else 'partial'}/{i}/{_safe_base(path)}"
                (self._dir / rel).parent.mkdir(parents=True)
                (self._dir / rel).write_bytes(data)
                self._paths[rel] = path
                args.append(rel)
            with (
                (self._dir / "out.json").open("wb") as out,
                (self._dir / "err.txt").open("wb") as err,
            ):
                self._proc = subprocess.Popen(  # noqa: S603 - our binary, our arguments
                    command(binary, settings, args),
                    cwd=self._dir,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env={**_ENV, "RAYON_NUM_THREADS": str(threads)} if threads else _ENV,
                )
        except OSError as exc:
            self._note = f"ruff could not start ({exc.strerror or exc}): its checks were skipped"

    def __enter__(self) -> RuffJob:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def collect(self) -> RuffOutcome:
        """Wait for ruff (within the timeout, counted from the start) and read its answer."""
        try:
            return self._collect()
        finally:
            self.close()

    def _collect(self) -> RuffOutcome:
        if self._note is not None or self._proc is None or self._dir is None:
            return RuffOutcome(note=self._note)
        left = self._settings.timeout - (self._clock() - self._started)
        try:
            code = self._proc.wait(timeout=max(left, 0.01))
        except subprocess.TimeoutExpired:
            return RuffOutcome(
                note=f"ruff took longer than {self._settings.timeout:g}s "
                "(ruff.timeout): its checks were skipped"
            )
        out, err = self._dir / "out.json", self._dir / "err.txt"
        if code != 0:
            detail = err.read_bytes()[:300].decode("utf-8", "replace").strip().splitlines()
            why = detail[0] if detail else f"exit status {code}"
            return RuffOutcome(note=f"ruff failed ({why[:200]}): its checks were skipped")
        if out.stat().st_size > MAX_OUTPUT:
            return RuffOutcome(note="ruff's output was too large: its checks were skipped")
        try:
            hits = parse(json.loads(out.read_bytes()), self._paths, self._dir)
        except (ValueError, TypeError, KeyError) as exc:
            return RuffOutcome(
                note=f"ruff's output was not understood ({str(exc)[:100]}): its checks were skipped"
            )
        return RuffOutcome(hits)


def parse(data: Any, paths: Mapping[str, str], root: Path) -> dict[str, list[RuffHit]]:
    """ruff's JSON diagnostics, by reviewed path; syntax errors (no code, or the code
    ``invalid-syntax``) are left out: reviewbot's other checks parse with error recovery.
    Raises ValueError / TypeError / KeyError on a shape we do not know."""
    if not isinstance(data, list):
        raise ValueError("not a list")
    prefix = str(root.resolve())
    out: dict[str, list[RuffHit]] = {}
    for d in data:
        code = d["code"]
        if code is not None and not isinstance(code, str):
            raise TypeError("code is not a string")
        if code is None or not _CODE.fullmatch(code):
            continue  # a syntax error ("invalid-syntax"): tree-sitter's checks go on
        name = str(d["filename"])
        rel = name[len(prefix) + 1 :] if name.startswith(prefix) else name
        path = paths.get(rel.replace("\\", "/"))
        if path is None:
            raise ValueError("a diagnostic for a file that was not sent")
        line, end = int(d["location"]["row"]), int(d["end_location"]["row"])
        out.setdefault(path, []).append(
            RuffHit(
                code,
                line,
                max(line, end),
                str(d["message"])[:500],
                str(d.get("name", ""))[:80],
                _fix(d.get("fix"), line, max(line, end)),
            )
        )
    return out


def _fix(fix: Any, line: int, end: int) -> tuple[int, int, str] | None:
    """ruff's fix, only when ruff marks it safe and it is one edit that stays on the line
    of a one-line finding (a suggestion replaces the finding's whole lines)."""
    if line != end or not isinstance(fix, dict) or fix.get("applicability") != "safe":
        return None
    edits = fix.get("edits")
    if not isinstance(edits, list) or len(edits) != 1 or not isinstance(edits[0], dict):
        return None
    e = edits[0]
    start, stop, content = e.get("location"), e.get("end_location"), e.get("content")
    if (
        not isinstance(start, dict)
        or not isinstance(stop, dict)
        or not isinstance(content, str)
        or "\n" in content
        or "\r" in content
    ):
        return None
    if start.get("row") != line or stop.get("row") != line:
        return None
    return int(start["column"]), int(stop["column"]), content


def to_hits(found: Sequence[RuffHit], lines: Sequence[str]) -> list[StaticHit]:
    """Static hits (ids ``ruff.<CODE>``) from ruff's answer for one file of ``lines``: the
    curated reason as title, ruff's own text as message, ranges clamped to the file, a
    safe one-line fix turned into the new line."""
    n = max(len(lines), 1)
    out: list[StaticHit] = []
    for h in found:
        rule = rule_for(h.code)
        line = min(max(h.line, 1), n)
        end = min(max(h.end_line, line), n)
        fix = _apply(h.fix, line, lines) if (line, end) == (h.line, h.end_line) else None
        out.append(
            StaticHit(
                f"ruff.{h.code}",
                line,
                end,
                rule.category,
                rule.severity,
                rule.reason,
                f"{h.message.rstrip('.')} (ruff {h.code}{' ' + h.name if h.name else ''}).",
                fix,
                rule.cwe,
                0.9,
            )
        )
    return out


def _apply(fix: tuple[int, int, str] | None, line: int, lines: Sequence[str]) -> str | None:
    if fix is None or not 1 <= line <= len(lines):
        return None
    col, end_col, content = fix
    text = lines[line - 1]
    if not 1 <= col <= end_col <= len(text) + 1:
        return None
    return text[: col - 1] + content + text[end_col - 1 :]
