"""File names in diff headers: git's C-style quoting, a/ b/ prefixes, ``diff --git`` lines.

Git quotes a path that holds a tab, newline, double quote, backslash or control character
(and, with ``core.quotePath=true``, any non-ASCII byte as octal escapes). Bytes that are not
UTF-8 survive as surrogates (``surrogateescape``) so a path round-trips to the file system.
"""

from __future__ import annotations

import re

DEV_NULL = "/dev/null"
_SIMPLE = {
    ord("n"): b"\n",
    ord("t"): b"\t",
    ord('"'): b'"',
    ord("\\"): b"\\",
    ord("a"): b"\a",
    ord("b"): b"\b",
    ord("f"): b"\f",
    ord("r"): b"\r",
    ord("v"): b"\v",
}
_ESCAPE = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", " ": "\\040"}
_AMBIGUOUS = re.compile(r' "?b/')


def unquote(path: str) -> str:
    """Undo git's quoting (``"a/t\\303\\251st"`` -> ``a/tést``); unquoted paths pass through."""
    if len(path) < 2 or path[0] != '"' or path[-1] != '"':
        return path
    raw = path[1:-1].encode("utf-8", "surrogateescape")
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x5C and i + 1 < n:  # backslash
            nxt = raw[i + 1]
            if nxt in _SIMPLE:
                out += _SIMPLE[nxt]
                i += 2
                continue
            digits = raw[i + 1 : i + 4]
            if len(digits) == 3 and all(0x30 <= d <= 0x37 for d in digits):
                out.append(int(digits, 8) & 0xFF)
                i += 4
                continue
        out.append(c)
        i += 1
    return out.decode("utf-8", "surrogateescape")


def quote(path: str) -> str:
    """A quoted form without spaces that unidiff's header patterns cannot split wrongly."""
    return '"' + "".join(_ESCAPE.get(ch, ch) for ch in path) + '"'


def strip_prefix(path: str | None, prefix: str) -> str | None:
    """Unquote ``path`` and drop ``prefix`` (``a/`` or ``b/``); None for /dev/null."""
    if path is None:
        return None
    # a raw trailing CR is a CRLF patch's line end (git quotes a CR inside a name)
    path = unquote(path.rstrip("\r\n"))
    if path == DEV_NULL:
        return None
    return path[len(prefix) :] if prefix and path.startswith(prefix) else path


def _quoted_token_end(s: str, start: int) -> int:
    """Index just past the closing quote of the quoted token starting at ``start``."""
    i = start + 1
    while i < len(s):
        if s[i] == "\\":
            i += 2
            continue
        if s[i] == '"':
            return i + 1
        i += 1
    return -1


def git_header_paths(header: str) -> tuple[str | None, str | None]:
    """(old, new) from ``diff --git a/OLD b/NEW``; a path holding " b/" is ambiguous, and
    resolved by assuming both sides name the same file (git's form when there is no rename,
    the only case where callers have nothing better)."""
    rest = header[len("diff --git ") :].rstrip("\r\n")
    if rest.startswith('"'):
        end = _quoted_token_end(rest, 0)
        if end > 0 and rest[end : end + 1] == " ":
            return strip_prefix(rest[:end], "a/"), strip_prefix(rest[end + 1 :], "b/")
    if rest.endswith('"'):
        start = rest.rfind(' "')
        while start > 0:
            if _quoted_token_end(rest, start + 1) == len(rest):
                return strip_prefix(rest[:start], "a/"), strip_prefix(rest[start + 1 :], "b/")
            start = rest.rfind(' "', 0, start)
    half = (len(rest) - 5) // 2
    if half > 0 and rest == f"a/{rest[2 : 2 + half]} b/{rest[2 : 2 + half]}":
        return rest[2 : 2 + half], rest[2 : 2 + half]
    if " b/" in rest:
        a, b = rest.split(" b/", 1)
        return strip_prefix(a, "a/"), b
    return None, None


def is_ambiguous(path: str | None) -> bool:
    """True when unidiff would split a ``diff --git`` line naming ``path`` in the wrong place."""
    return path is not None and _AMBIGUOUS.search(path) is not None
