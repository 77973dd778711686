"""Parse unified diffs (git or plain) into the :mod:`reviewbot.diff.model` with unidiff.

unidiff parses each file's part for its structure only (``metadata_only``) and
:mod:`reviewbot.diff.bodies` reads the hunks' lines from the text; a part the walk cannot
follow is parsed by unidiff in full, which is also the oracle the tests compare against.
unidiff is lenient in ways that would misplace comments; :mod:`reviewbot.diff.guards` checks
and repairs the raw lines first (see there). Every line keeps its bytes: input that is not
UTF-8 is decoded with ``surrogateescape`` and the file is flagged ``invalid_utf8``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from unidiff.constants import (
    RE_DIFF_GIT_HEADER,
    RE_DIFF_GIT_HEADER_NO_PREFIX,
    RE_DIFF_GIT_HEADER_URI_LIKE,
)
from unidiff.errors import UnidiffParseError
from unidiff.patch import Hunk as UHunk
from unidiff.patch import PatchedFile, PatchSet

from reviewbot.diff.bodies import no_eol, walk_hunks
from reviewbot.diff.guards import MALFORMED_HINT, disambiguate_headers, nul_error, validate_hunks
from reviewbot.diff.model import Diff, DiffLine, FileDiff, FileStatus, Hunk, LineKind
from reviewbot.diff.paths import git_header_paths, strip_prefix, unquote
from reviewbot.errors import DiffError

__all__ = ["decode_diff", "parse_diff", "validate_hunks"]

_KINDS = {k.value: k for k in LineKind}
_SURROGATE = re.compile("[\udc80-\udcff]")
"""Bytes that were not UTF-8, as ``surrogateescape`` decoded them."""
_HEX = re.compile("[0-9a-f]+")


def decode_diff(data: bytes | str) -> str:
    """Decode diff bytes as UTF-8; undecodable bytes survive as surrogates (never lost)."""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", "surrogateescape")


def _split_lines(text: str) -> list[str]:
    # Split on "\n" only: str.splitlines() would also break on \f, \x1c, \u2028 ... which
    # are legal inside source lines.
    lines = text.split("\n")
    out = [ln + "\n" for ln in lines[:-1]]
    if lines[-1]:
        out.append(lines[-1] + "\n")
    return out


_HEADER_KEYS = (
    "old mode ",
    "new mode ",
    "deleted file mode ",
    "new file mode ",
    "copy from ",
    "copy to ",
    "rename from ",
    "rename to ",
    "similarity index ",
    "index ",
    "--- ",
    "+++ ",
    "GIT binary patch",
)
_HEADER = re.compile("|".join(re.escape(k) for k in _HEADER_KEYS))


def _header_values(info: Sequence[str]) -> dict[str, str]:
    """The value of the first line of ``info`` that starts with each of ``_HEADER_KEYS``
    (line end stripped), in one pass over the lines."""
    found: dict[str, str] = {}
    for line in info:
        m = _HEADER.match(line)
        if m is not None and m.group() not in found:
            found[m.group()] = line[m.end() :].rstrip("\r\n")
    return found


def _convert_hunk(h: UHunk) -> Hunk:
    lines: list[DiffLine] = []
    for ln in h:
        if ln.line_type == "\\":
            if lines:
                lines[-1] = no_eol(lines[-1])
            continue
        if ln.line_type not in ("+", "-", " "):
            continue  # unidiff appends a blank separator line after a hunk as type ""
        value = ln.value
        if value.endswith("\n"):
            value = value[:-1]
        crlf = value.endswith("\r")
        if crlf:
            value = value[:-1]
        kind = _KINDS[ln.line_type]
        lines.append(DiffLine(kind, value, ln.source_line_no, ln.target_line_no, crlf))
    return Hunk(
        old_start=h.source_start,
        old_count=h.source_length,
        new_start=h.target_start,
        new_count=h.target_length,
        section=(h.section_header or "").strip(),
        lines=tuple(lines),
    )


def _convert_file(
    pf: PatchedFile, maybe_invalid: bool = True, hunks: tuple[Hunk, ...] | None = None
) -> FileDiff:
    """``pf`` in the model; its hunks are ``hunks`` when given (read by
    :func:`~reviewbot.diff.bodies.walk_hunks`), else converted from unidiff's lines."""
    info = [str(x) for x in pf.patch_info] if pf.patch_info else []
    git_header = info[0] if info and info[0].startswith("diff --git ") else None
    prefixed = (pf.source_file or "").startswith(("a/", '"a/')) or (
        pf.target_file or ""
    ).startswith(("b/", '"b/'))
    old = strip_prefix(pf.source_file, "a/" if prefixed else "")
    new = strip_prefix(pf.target_file, "b/" if prefixed else "")
    values = _header_values(info)
    has_file_lines = "--- " in values and "+++ " in values
    if git_header is not None and not has_file_lines:
        # No ---/+++ lines (mode change, binary, empty file): unidiff splits the
        # "diff --git a/P b/P" line at the wrong " b/" when P contains one.
        old, new = git_header_paths(git_header)

    status = FileStatus.MODIFIED
    rename_from = values.get("rename from ")
    rename_to = values.get("rename to ")
    copy_from = values.get("copy from ")
    copy_to = values.get("copy to ")
    if rename_from is not None and rename_to is not None:
        old, new, status = unquote(rename_from), unquote(rename_to), FileStatus.RENAMED
    elif copy_from is not None and copy_to is not None:
        old, new, status = unquote(copy_from), unquote(copy_to), FileStatus.COPIED
    new_file_mode = values.get("new file mode ")
    deleted_mode = values.get("deleted file mode ")
    if new_file_mode is not None or (pf.is_added_file and status is FileStatus.MODIFIED):
        status, old = FileStatus.ADDED, None
    elif deleted_mode is not None or (pf.is_removed_file and status is FileStatus.MODIFIED):
        status, new = FileStatus.DELETED, None
    if old is None and new is None:
        raise DiffError(f"cannot find the file names in diff header {git_header or info!r}")
    sim = values.get("similarity index ")
    index = values.get("index ")
    index_mode = index.split(" ")[1] if index and index.count(" ") == 1 else None
    if hunks is None:
        hunks = tuple(_convert_hunk(h) for h in pf)
    invalid = maybe_invalid and any(_SURROGATE.search(ln.text) for h in hunks for ln in h.lines)
    return FileDiff(
        old_path=old,
        new_path=new,
        status=status,
        hunks=hunks,
        is_binary=bool(pf.is_binary_file) or "GIT binary patch" in values,
        old_mode=values.get("old mode ") or deleted_mode or index_mode,
        new_mode=values.get("new mode ") or new_file_mode or index_mode,
        similarity=int(sim.rstrip("%")) if sim and sim.rstrip("%").isdigit() else None,
        invalid_utf8=invalid,
        new_blob=_new_blob(index),
    )


def _new_blob(index: str | None) -> str | None:
    """The new blob id of an ``index OLD..NEW [MODE]`` value, when whole (SHA-1 or
    SHA-256) and not all zeros."""
    ids = index.split(" ", 1)[0].split("..") if index else []
    new = ids[1] if len(ids) == 2 else ""
    if len(new) in (40, 64) and _HEX.fullmatch(new) and new.strip("0"):
        return new
    return None


def parse_diff(data: bytes | str) -> Diff:
    """Parse a unified diff; raise :class:`DiffError` on anything it cannot place safely."""
    text = decode_diff(data)
    if "\x00" in text:
        raise nul_error(text)
    lines = _split_lines(text)
    validate_hunks(lines)
    lines = disambiguate_headers(lines)
    # Undecodable bytes anywhere? (Usually not: then no line needs looking at.)
    maybe_invalid = _SURROGATE.search(text) is not None
    files: list[FileDiff] = []
    for part in file_parts(lines):
        # unidiff's objects of one file at a time, never the whole change's
        files += _parse_part(part, maybe_invalid)
    if not files and text.strip() and not any(ln.startswith(("diff ", "--- ")) for ln in lines):
        raise DiffError(
            "the input is not a unified diff (no 'diff --git' or '---/+++' header found)",
            hint="pass the output of `git diff` or `diff -u`",
        )
    return Diff(files=tuple(files))


def _parse_part(part: list[str], maybe_invalid: bool) -> list[FileDiff]:
    try:
        patch = PatchSet(part, metadata_only=True)
    except UnidiffParseError:
        patch = None  # the full parse below raises unidiff's own error
    walked = walk_hunks(part, patch) if patch is not None else None
    if patch is None or walked is None:
        try:
            patch = PatchSet(part)
        except UnidiffParseError as exc:
            raise DiffError(f"cannot parse the diff: {exc}", hint=MALFORMED_HINT) from exc
        return [_convert_file(pf, maybe_invalid) for pf in patch]
    return [_convert_file(pf, maybe_invalid, h) for pf, h in zip(patch, walked, strict=True)]


def _is_git_header(line: str) -> bool:
    return line.startswith("diff --git ") and bool(
        RE_DIFF_GIT_HEADER.match(line)
        or RE_DIFF_GIT_HEADER_URI_LIKE.match(line)
        or RE_DIFF_GIT_HEADER_NO_PREFIX.match(line)
    )


def file_parts(lines: list[str]) -> Iterator[list[str]]:
    """``lines`` cut before each ``diff --git`` header unidiff recognises: unidiff starts a
    fresh file there and carries nothing over, so parsing the parts one by one gives the
    files that parsing the whole would (``tests/test_diff_parts.py`` checks it), while
    only one file's unidiff objects exist at a time. A header cannot sit inside a hunk:
    :func:`validate_hunks` has checked that each hunk holds the lines it counts."""
    start = 0
    for i, line in enumerate(lines):
        if i > start and line.startswith("diff --git ") and _is_git_header(line):
            yield lines[start:i]
            start = i
    if start < len(lines):
        yield lines[start:]
