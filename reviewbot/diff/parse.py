"""Parse unified diffs (git or plain) into the :mod:`reviewbot.diff.model` with unidiff.

unidiff is lenient: it accepts some malformed hunk headers and, when a header's counts are
too small, silently drops the lines that follow. :func:`validate_hunks` scans the raw text
first and raises :class:`DiffError` naming the file and the line of the diff instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import unidiff

from reviewbot.diff.model import Diff, DiffLine, FileDiff, FileStatus, Hunk, LineKind
from reviewbot.errors import DiffError

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_GIT_HEADER = re.compile(r"^diff --git (.+)$")
_DEV_NULL = "/dev/null"
_MALFORMED_HINT = (
    "regenerate the patch with `git diff` (a hand-edited patch must keep each @@ header's "
    "line counts equal to the lines that follow it)"
)


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


def _file_label(line: str) -> str:
    m = _GIT_HEADER.match(line)
    if m:
        return m.group(1)
    return line[4:].split("\t")[0].strip()


def validate_hunks(lines: Sequence[str]) -> None:
    """Check that every hunk holds exactly the lines its header counts."""
    current = "<unknown file>"
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip("\n")
        if line.startswith("diff --git ") or line.startswith("+++ "):
            current = _file_label(line)
        if not line.startswith("@@"):
            i += 1
            continue
        m = _HUNK_HEADER.match(line.rstrip("\r"))
        if not m:
            raise DiffError(
                f"malformed hunk header at line {i + 1} of the diff ({current}): {line[:80]!r}",
                hint=_MALFORMED_HINT,
            )
        old_left = int(m.group(2)) if m.group(2) is not None else 1
        new_left = int(m.group(4)) if m.group(4) is not None else 1
        header_no = i + 1
        i += 1
        while i < n and (old_left > 0 or new_left > 0):
            body = lines[i].rstrip("\n")
            tag = body[:1]
            if tag == "\\":
                i += 1
                continue
            if tag in (" ", ""):
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
            raise DiffError(
                f"hunk at line {header_no} of the diff ({current}) does not match its header "
                f"{line.split('@@')[1].strip()!r}: the lines that follow disagree with its "
                f"counts (stopped at line {i + 1})",
                hint=_MALFORMED_HINT,
            )
        # Lines directly after a complete hunk must not look like more hunk body.
        while i < n and lines[i].startswith("\\"):
            i += 1
        if i < n:
            nxt = lines[i].rstrip("\n")
            is_file_header = nxt.startswith("--- ") and i + 1 < n and lines[i + 1].startswith("+++ ")
            is_signature = nxt == "-- "
            if nxt[:1] in ("+", "-", " ") and not is_file_header and not is_signature:
                raise DiffError(
                    f"hunk at line {header_no} of the diff ({current}) has more lines than its "
                    f"header {line.split('@@')[1].strip()!r} declares (extra line {i + 1}); "
                    "unidiff would silently drop them",
                    hint=_MALFORMED_HINT,
                )


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of paths ("a/t\\303\\251st" -> a/tést)."""
    path = path.strip()
    if len(path) >= 2 and path[0] == path[-1] == '"':
        raw = path[1:-1].encode("utf-8", "surrogateescape")
        out = bytearray()
        i = 0
        simple = {b"n": b"\n", b"t": b"\t", b'"': b'"', b"\\": b"\\", b"a": b"\a", b"b": b"\b",
                  b"f": b"\f", b"r": b"\r", b"v": b"\v"}
        while i < len(raw):
            c = raw[i : i + 1]
            if c == b"\\" and i + 1 < len(raw):
                nxt = raw[i + 1 : i + 2]
                if nxt in simple:
                    out += simple[nxt]
                    i += 2
                    continue
                if raw[i + 1 : i + 4].isdigit():
                    out.append(int(raw[i + 1 : i + 4], 8))
                    i += 4
                    continue
            out += c
            i += 1
        return out.decode("utf-8", "surrogateescape")
    return path


def _strip_prefix(path: str | None, prefix: str) -> str | None:
    if path is None:
        return None
    path = _unquote(path)
    if path == _DEV_NULL:
        return None
    return path[len(prefix) :] if path.startswith(prefix) else path


def _git_header_paths(header: str) -> tuple[str | None, str | None]:
    rest = header[len("diff --git ") :].rstrip("\n")
    if rest.startswith('"'):
        end = rest.find('" ', 1)
        if end > 0:
            return _strip_prefix(rest[: end + 1], "a/"), _strip_prefix(rest[end + 2 :], "b/")
    # Same path on both sides (mode change, binary, empty new file): "a/P b/P".
    half = (len(rest) - 5) // 2
    if half > 0 and rest == f"a/{rest[2:2 + half]} b/{rest[2:2 + half]}":
        return rest[2 : 2 + half], rest[2 : 2 + half]
    if " b/" in rest:
        a, b = rest.split(" b/", 1)
        return _strip_prefix(a, "a/"), b
    return None, None


def _header_value(info: Sequence[str], key: str) -> str | None:
    for line in info:
        if line.startswith(key):
            return line[len(key) :].rstrip("\n")
    return None


def _convert_hunk(h: unidiff.Hunk) -> Hunk:
    lines: list[DiffLine] = []
    for ln in h:
        if ln.line_type == "\\":
            if lines:
                lines[-1] = DiffLine(
                    lines[-1].kind, lines[-1].text, lines[-1].old_lineno, lines[-1].new_lineno,
                    lines[-1].crlf, True,
                )
            continue
        value = ln.value
        if value.endswith("\n"):
            value = value[:-1]
        crlf = value.endswith("\r")
        if crlf:
            value = value[:-1]
        kind = LineKind(ln.line_type) if ln.line_type in "+- " else LineKind.CONTEXT
        lines.append(DiffLine(kind, value, ln.source_line_no, ln.target_line_no, crlf))
    return Hunk(
        old_start=h.source_start,
        old_count=h.source_length,
        new_start=h.target_start,
        new_count=h.target_length,
        section=(h.section_header or "").strip(),
        lines=tuple(lines),
    )


def _convert_file(pf: unidiff.PatchedFile) -> FileDiff:
    info = [str(x) for x in pf.patch_info] if pf.patch_info else []
    git_header = info[0] if info and info[0].startswith("diff --git ") else None
    prefixed = (pf.source_file or "").startswith(("a/", '"a/')) or (
        pf.target_file or ""
    ).startswith(("b/", '"b/'))
    old = _strip_prefix(pf.source_file, "a/" if prefixed else "")
    new = _strip_prefix(pf.target_file, "b/" if prefixed else "")
    if git_header is not None and (pf.source_file is None or pf.target_file is None):
        old, new = _git_header_paths(git_header)

    status = FileStatus.MODIFIED
    rename_from = _header_value(info, "rename from ")
    rename_to = _header_value(info, "rename to ")
    copy_from = _header_value(info, "copy from ")
    copy_to = _header_value(info, "copy to ")
    if rename_from is not None and rename_to is not None:
        old, new, status = _unquote(rename_from), _unquote(rename_to), FileStatus.RENAMED
    elif copy_from is not None and copy_to is not None:
        old, new, status = _unquote(copy_from), _unquote(copy_to), FileStatus.COPIED
    new_file_mode = _header_value(info, "new file mode ")
    deleted_mode = _header_value(info, "deleted file mode ")
    if new_file_mode is not None or (pf.is_added_file and status is FileStatus.MODIFIED):
        status, old = FileStatus.ADDED, None
    elif deleted_mode is not None or (pf.is_removed_file and status is FileStatus.MODIFIED):
        status, new = FileStatus.DELETED, None
    if old is None and new is None:
        raise DiffError(f"cannot find the file names in diff header {git_header or info!r}")
    sim = _header_value(info, "similarity index ")
    hunks = tuple(_convert_hunk(h) for h in pf)
    invalid = any(
        "\udc80" <= ch <= "\udcff" for h in hunks for ln in h.lines for ch in ln.text
    )
    return FileDiff(
        old_path=old,
        new_path=new,
        status=status,
        hunks=hunks,
        is_binary=bool(pf.is_binary_file) or any(x.startswith("GIT binary patch") for x in info),
        old_mode=_header_value(info, "old mode ") or deleted_mode,
        new_mode=_header_value(info, "new mode ") or new_file_mode,
        similarity=int(sim.rstrip("%")) if sim and sim.rstrip("%").isdigit() else None,
        invalid_utf8=invalid,
    )


def parse_diff(data: bytes | str) -> Diff:
    """Parse a unified diff; raise :class:`DiffError` on anything it cannot place safely."""
    text = decode_diff(data)
    if "\x00" in text:
        raise DiffError(
            "the diff contains NUL bytes; it looks like a binary file, not a patch",
            hint="pass the output of `git diff` (binary changes appear as 'Binary files differ')",
        )
    lines = _split_lines(text)
    validate_hunks(lines)
    try:
        patch = unidiff.PatchSet(lines)
    except unidiff.UnidiffParseError as exc:
        raise DiffError(f"cannot parse the diff: {exc}", hint=_MALFORMED_HINT) from exc
    if not patch and text.strip() and not any(ln.startswith(("diff ", "--- ")) for ln in lines):
        raise DiffError(
            "the input is not a unified diff (no 'diff --git' or '---/+++' header found)",
            hint="pass the output of `git diff` or `diff -u`",
        )
    return Diff(files=tuple(_convert_file(pf) for pf in patch))
