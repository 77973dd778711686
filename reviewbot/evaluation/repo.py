"""One temporary git repository holding every evaluation case as real commits.

For each case three commits follow each other on one branch: the fixed function, then the
vulnerable one, then the fixed one again. ``fixed -> vulnerable`` is the change that
introduces the vulnerability, ``vulnerable -> fixed`` the change that fixes it. All commits
are written by one ``git fast-import`` run, so building the repository for a few hundred
cases takes well under a second.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from reviewbot.errors import GitError
from reviewbot.evaluation.dataset import EvalCase
from reviewbot.gitio import scrubbed_env


@dataclass(frozen=True, slots=True)
class CaseCommits:
    case: EvalCase
    introduce: str
    """``A..B`` range: fixed -> vulnerable."""
    fix: str
    """``B..C`` range: vulnerable -> fixed."""


def _blob(data: bytes) -> bytes:
    return b"data %d\n" % len(data) + data + b"\n"


def build_repo(root: Path, cases: Sequence[EvalCase]) -> list[CaseCommits]:
    """Initialise ``root`` as a repository with the commits of every case."""
    env = scrubbed_env()
    env.update(
        {
            "GIT_AUTHOR_NAME": "reviewbot eval",
            "GIT_AUTHOR_EMAIL": "eval@reviewbot.invalid",
            "GIT_COMMITTER_NAME": "reviewbot eval",
            "GIT_COMMITTER_EMAIL": "eval@reviewbot.invalid",
        }
    )

    def git(*args: str, stdin: bytes | None = None) -> bytes:
        proc = subprocess.run(
            ["git", *args], cwd=root, env=env, input=stdin, capture_output=True, check=False
        )
        if proc.returncode != 0:
            err = proc.stderr.decode("utf-8", "replace").strip()
            raise GitError(f"git {args[0]} failed while building the evaluation repository: {err}")
        return proc.stdout

    root.mkdir(parents=True, exist_ok=True)
    git("init", "-q", "-b", "eval")
    stream = bytearray()
    mark = 0
    marks: list[tuple[int, int, int]] = []
    for case in cases:
        trio = []
        for label, content in (
            ("fixed", case.fixed),
            ("vulnerable", case.vulnerable),
            ("fixed again", case.fixed),
        ):
            mark += 1
            trio.append(mark)
            stream += b"commit refs/heads/eval\nmark :%d\n" % mark
            stream += b"committer reviewbot eval <eval@reviewbot.invalid> 0 +0000\n"
            stream += _blob(f"{case.id}: {label}".encode())
            stream += b"M 100644 inline " + case.path.encode() + b"\n"
            stream += _blob(content.encode("utf-8", "surrogateescape"))
        marks.append((trio[0], trio[1], trio[2]))
    marks_file = root / ".git" / "eval-marks"
    git("fast-import", "--quiet", f"--export-marks={marks_file}", stdin=bytes(stream))
    sha: dict[int, str] = {}
    for ln in marks_file.read_text().splitlines():
        m, _, h = ln.partition(" ")
        sha[int(m.lstrip(":"))] = h.strip()
    return [
        CaseCommits(case, f"{sha[a]}..{sha[b]}", f"{sha[b]}..{sha[c]}")
        for case, (a, b, c) in zip(cases, marks, strict=True)
    ]
