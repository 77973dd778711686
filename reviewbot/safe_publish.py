"""Text fit to publish under the bot's name, from untrusted input (model answers, paths, code).

Every string reviewbot writes to GitHub or a workflow log goes through here (by way of
:func:`reviewbot.reporters.markdown.escape_md` and friends):

* **secrets are redacted** (:func:`redact`): GitHub, AWS, Slack and OpenAI-style tokens,
  JWTs, PEM blocks and long base64 runs, which is what a bare PEM body line or an encoded
  key looks like; a 40-character hex SHA is not a secret and stays;
* **control characters go**: C0 and C1 controls, DEL, NUL, the bidi overrides, embeddings,
  isolates and marks, zero-width and other invisible format characters, line and paragraph
  separators (:func:`visible`); a tab becomes a space;
* **nothing links or notifies**: issue references (``#1``, ``owner/repo#2``, ``GH-3``),
  ``@mentions``, URLs (any scheme), ``www.`` hosts and e-mail addresses are put in inline
  code, where GitHub neither links nor notifies; ``[`` and ``]`` are escaped, so
  ``[text](url)`` and reference links are plain text; HTML is entity-escaped;
* **no block markup**: in a one-line field newlines are spaces; in a message, a line cannot
  start a heading, quote, list, rule, table or fence (its first character is escaped).

Inline code the text already has is kept as code (GitHub links nothing inside it), with
controls removed and secrets redacted. :func:`cut` shortens markdown at a line boundary and
closes a fence it would otherwise leave open.
"""

from __future__ import annotations

import re

REDACTED = "[redacted]"

_SECRET_PATTERNS = [
    r"-----BEGIN[A-Z0-9 ]{0,40}-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}-----|$)",
    r"\b(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})",
    r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
    r"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}",
]
_SECRET = re.compile("|".join(f"(?:{p})" for p in _SECRET_PATTERNS))
_HEX = re.compile(r"[0-9a-fA-F]+")
_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb"
    "\U000e0000-\U000e0fff]")

_HAZARD = re.compile(
    r"(?:\b(?:[a-z][a-z0-9+.-]{1,15}):/{1,3}[^\s`<>]+"  # scheme://host/...
    r"|\bmailto:[^\s`<>]+"
    r"|\bwww\.[^\s`<>]+"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail autolinks
    r"|(?<![\w`])@[A-Za-z0-9][\w-]*(?:/[\w.-]+)?"  # @user, @org/team
    r"|(?<![\w`])(?:[\w.-]+/[\w.-]+)?#\d+\b"  # #1, owner/repo#2
    r"|\bGH-\d+\b)",
    re.IGNORECASE)
_BLOCK_START = re.compile(r"^(\s{0,3})([#>*+=_|~`-]|\d+[.)])")


def _is_secret(token: str) -> bool:
    if token.startswith("-----BEGIN") or not re.fullmatch(r"[A-Za-z0-9+/_=-]+", token):
        return True
    core = token.rstrip("=")
    if _HEX.fullmatch(core):
        return False  # a commit SHA or a digest
    kinds = sum(bool(re.search(p, core)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    known = re.match(r"(?:gh[pousr]_|github_pat_|AKIA|ASIA|xox|sk-)", core) is not None
    return known or kinds == 3


def redact(text: str) -> str:
    """``text`` with secret-looking strings replaced by ``[redacted]``."""
    return _SECRET.sub(lambda m: REDACTED if _is_secret(m.group(0)) else m.group(0), text)


def visible(text: str) -> str:
    """``text`` without control or invisible characters (a tab becomes a space)."""
    return _INVISIBLE.sub("", text.replace("\t", " ").replace("\r\n", "\n"))


def code_span(text: str) -> str:
    """``text`` as inline code, with more backticks around it than it contains."""
    text = " ".join(text.split("\n"))
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _prose(text: str) -> str:
    """Untrusted prose outside code: HTML escaped, brackets escaped, hazards in code."""
    out: list[str] = []
    last = 0
    for m in _HAZARD.finditer(text):
        out.append(_escape_plain(text[last:m.start()]))
        out.append(code_span(m.group(0)))
        last = m.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return (text.replace("\\", "\\\\").replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace("[", "\\[").replace("]", "\\]")
            .replace("|", "\\|").replace("!", "\\!").replace("*", "\\*").replace("_", "\\_")
            .replace("~", "\\~"))


def _inline(text: str) -> str:
    """Prose with its own inline code kept as code."""
    out: list[str] = []
    last = 0
    for m in _SPAN.finditer(text):
        out.append(_prose(text[last:m.start()]))
        out.append(code_span(m.group(2).strip() or " "))
        last = m.end()
    out.append(_prose(text[last:]))
    return "".join(out)


def safe_line(text: str) -> str:
    """One line of untrusted text for markdown (titles, reasons, list items, table cells)."""
    return _inline(" ".join(visible(redact(text)).split()))


def safe_block(text: str) -> str:
    """Several lines of untrusted text for markdown (a finding's message): no line starts
    block markup."""
    lines = []
    for raw in visible(redact(text)).split("\n"):
        line = _inline(raw.strip())
        m = _BLOCK_START.match(line)
        if m and not line.startswith("\\"):
            line = f"{m.group(1)}\\{line[len(m.group(1)):]}"
        lines.append(line)
    return "\n".join(lines).strip("\n")


def safe_code(code: str) -> str:
    """Code shown inside a fence: secrets redacted, controls removed, lines kept."""
    return visible(redact(code))


def safe_plain(text: str, limit: int) -> str:
    """Untrusted text for a plain-text field (a check-run annotation, a log line)."""
    text = visible(redact(text))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def cut(text: str, limit: int, note: str = "… (truncated)") -> str:
    """``text`` shortened to at most about ``limit`` characters at a line boundary; a fence
    left open is closed, so nothing after the cut (a note, a marker) lands inside code."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    open_fence: str | None = None
    for line in text.split("\n"):
        if size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
        m = _FENCE.match(line)
        if m:
            if open_fence is None:
                open_fence = m.group(1)
            elif m.group(1)[0] == open_fence[0] and len(m.group(1)) >= len(open_fence) and \
                    not line.strip()[len(m.group(1)):]:
                open_fence = None
    if open_fence is not None:
        kept.append(open_fence)
    return "\n".join(kept) + f"\n\n{note}"
