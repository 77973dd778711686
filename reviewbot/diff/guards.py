"""Guards run on the raw diff lines before unidiff sees them.

unidiff is lenient: it accepts some malformed hunk headers and, when a header's counts are
too small, silently drops the lines that follow; it also splits ``diff --git a/P b/P`` at
the wrong place when P contains " b/". :func:`validate_hunks` raises :class:`DiffError`
naming the file and the line of the diff instead, and :func:`disambiguate_headers`
rewrites ambiguous headers into a quoted form unidiff reads correctly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reviewbot.diff.paths import git_header_paths, is_ambiguous, quote, strip_prefix, unquote
from reviewbot.errors import DiffError

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git (.+)$")
MALFORMED_HINT = (
    "regenerate the patch with `git diff` (a hand-edited patch must keep each @@ header's "
    "line counts equal to the lines that follow it)"
)


def file_label(line: str, previous: str) -> str:
    """The file a header line names, without a/ b/ prefixes or git's quoting."""
    if _GIT_HEADER.match(line):
        old, new = git_header_paths(line)
        return new or old or line[len("diff --git ") :]
    name = line[4:].split("\t")[0].rstrip("\r\n")
    path = strip_prefix(name, "b/" if line.startswith("+++") else "a/")
    return path if path is not None else previous


def nul_error(text: str) -> DiffError:
    at = text.index("\x00")
    line_no = text.count("\n", 0, at) + 1
    current = "<before any file header>"
    for raw in text[:at].split("\n"):
        if raw.startswith(("diff --git ", "+++ ")) or (
            raw.startswith("--- ") and current == "<before any file header>"
        ):
            current = file_label(raw.rstrip("\r"), current)
    return DiffError(
        f"the diff contains a NUL byte at line {line_no} ({current}); it looks like a binary "
        "file, not a patch",
        hint="pass the output of `git diff` (binary changes appear as 'Binary files differ')",
    )


def validate_hunks(lines: Sequence[str]) -> None:
    """Check that every hunk holds exactly the lines its header counts, that headers are
    well formed, and that a file's hunks are in order and do not overlap."""
    current = "<before any file header>"
    seen_file = False
    prev_old_end = prev_new_end = 0
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip("\n")
        _refuse_combined(line, i)
        if line.startswith("diff --git ") or line.startswith("+++ "):
            current = file_label(line.rstrip("\r"), current)
            if line.startswith("diff --git ") or not seen_file:
                prev_old_end = prev_new_end = 0
            seen_file = True
        elif line.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ "):
            current = file_label(line.rstrip("\r"), current)
            prev_old_end = prev_new_end = 0
            seen_file = True
        if not line.startswith("@@"):
            i += 1
            continue
        hunk = _hunk_header(line, i, current, seen_file)
        if hunk.old_start < prev_old_end or hunk.new_start < prev_new_end:
            raise DiffError(
                f"hunk at {hunk.where} overlaps or precedes the file's previous hunk "
                f"({hunk.counts!r})",
                hint=MALFORMED_HINT,
            )
        prev_old_end = hunk.old_start + hunk.old_count
        prev_new_end = hunk.new_start + hunk.new_count
        i = _check_hunk_body(lines, i + 1, hunk, current)


@dataclass(frozen=True, slots=True)
class _Hunk:
    """A well-formed hunk header: where it starts and the lines it counts on each side."""

    line_no: int
    """Its line in the diff, from 1."""
    where: str
    counts: str
    """The header's ``-a,b +c,d`` text, as quoted in errors."""
    old_start: int
    old_count: int
    new_start: int
    new_count: int


def _refuse_combined(line: str, i: int) -> None:
    if line.startswith(("diff --cc ", "diff --combined ")):
        raise DiffError(
            f"line {i + 1} of the diff starts a combined (merge) diff, which cannot be "
            "anchored to one side",
            hint="review the merge against one parent, e.g. `reviewbot diff MAIN...MERGE`",
        )


def _hunk_header(line: str, i: int, current: str, seen_file: bool) -> _Hunk:
    """Parse the ``@@`` header at index ``i``, or raise naming what is wrong with it."""
    where = f"line {i + 1} of the diff ({current})"
    m = _HUNK_HEADER.match(line.rstrip("\r"))
    if not m:
        raise DiffError(f"malformed hunk header at {where}: {line[:80]!r}", hint=MALFORMED_HINT)
    if not seen_file:
        raise DiffError(
            f"hunk header at line {i + 1} of the diff comes before any file "
            "header ('diff --git' or '---/+++')",
            hint=MALFORMED_HINT,
        )
    old_start, new_start = int(m.group(1)), int(m.group(3))
    old_left = int(m.group(2)) if m.group(2) is not None else 1
    new_left = int(m.group(4)) if m.group(4) is not None else 1
    counts = line.split("@@")[1].strip()
    if (old_left and not old_start) or (new_left and not new_start):
        raise DiffError(
            f"hunk header at {where} counts lines from line 0: {counts!r}", hint=MALFORMED_HINT
        )
    return _Hunk(i + 1, where, counts, old_start, old_left, new_start, new_left)


def _check_hunk_body(lines: Sequence[str], i: int, hunk: _Hunk, current: str) -> int:
    """Check the body that starts at index ``i`` holds exactly the lines ``hunk`` counts and
    is not followed by more body lines; returns the index after it."""
    n = len(lines)
    old_left, new_left = hunk.old_count, hunk.new_count
    while i < n and (old_left > 0 or new_left > 0):
        tag = lines[i][:1]
        if tag == "\n":  # the tag of the line without its line feeds, as for the rest
            tag = lines[i].rstrip("\n")[:1]
        if tag == "\\":
            i += 1
            continue
        if tag in (" ", "", "\r"):
            old_left -= 1
            new_left -= 1
        elif tag == "-":
            old_left -= 1
        elif tag == "+":
            new_left -= 1
        else:
            break
        if old_left < 0 or new_left < 0:
            break
        i += 1
    if old_left != 0 or new_left != 0:
        stop = f"stopped at line {i + 1}" if i < n else f"the diff ends at line {n}"
        raise DiffError(
            f"hunk at line {hunk.line_no} of the diff ({current}) does not match its header "
            f"{hunk.counts!r}: the lines that follow disagree with its counts ({stop})",
            hint=MALFORMED_HINT,
        )
    _refuse_extra_lines(lines, i, hunk, current)
    return i


def _refuse_extra_lines(lines: Sequence[str], i: int, hunk: _Hunk, current: str) -> None:
    """Lines directly after a complete hunk must not look like more hunk body."""
    n = len(lines)
    while i < n and lines[i].startswith("\\"):
        i += 1
    if i < n:
        nxt = lines[i].rstrip("\n")
        is_file_header = nxt.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")
        is_signature = nxt == "-- "
        if nxt[:1] in ("+", "-", " ") and not is_file_header and not is_signature:
            raise DiffError(
                f"hunk at line {hunk.line_no} of the diff ({current}) has more lines than its "
                f"header {hunk.counts!r} declares (extra line {i + 1}); "
                "unidiff would silently drop them",
                hint=MALFORMED_HINT,
            )


def _name_of(line: str, prefix: str) -> str | None:
    return strip_prefix(line[4:].rstrip("\r\n").split("\t")[0], prefix)


def disambiguate_headers(lines: list[str]) -> list[str]:
    """Rewrite ``diff --git`` blocks whose paths contain " b/" so unidiff splits them right.

    The true names come from the block's rename/copy lines or its ---/+++ lines; the
    rewritten header and ---/+++ lines use git's quoted form with spaces as ``\\040``."""
    out = lines
    for idx, line in enumerate(lines):
        if not line.startswith("diff --git ") or line.count(" b/") + line.count(' "b/') < 2:
            continue
        old, new = git_header_paths(line)
        minus = plus = None
        j = idx + 1
        while j < len(lines) and not lines[j].startswith(("diff --git ", "@@")):
            cur = lines[j].rstrip("\r\n")
            for key, is_old in (
                ("rename from ", True),
                ("copy from ", True),
                ("rename to ", False),
                ("copy to ", False),
            ):
                if cur.startswith(key):
                    if is_old:
                        old = unquote(cur[len(key) :])
                    else:
                        new = unquote(cur[len(key) :])
            if cur.startswith("--- "):
                minus = j
            elif cur.startswith("+++ "):
                plus = j
            j += 1
        if minus is not None and plus is not None:
            old, new = _name_of(lines[minus], "a/"), _name_of(lines[plus], "b/")
        if not (is_ambiguous(old) or is_ambiguous(new)):
            continue
        if out is lines:
            out = list(lines)
        a_path, b_path = old or new or "", new or old or ""
        out[idx] = f"diff --git {quote('a/' + a_path)} {quote('b/' + b_path)}\n"
        if minus is not None and old is not None:
            out[minus] = f"--- {quote('a/' + old)}\n"
        if plus is not None and new is not None:
            out[plus] = f"+++ {quote('b/' + new)}\n"
    return out
