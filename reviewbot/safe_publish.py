"""Text fit to publish under the bot's name, from untrusted input (model answers, paths, code).

Every string reviewbot writes to GitHub or a workflow log goes through here (by way of
:func:`reviewbot.reporters.markdown.escape_md` and friends):

* **secrets are redacted** (:func:`redact`): GitHub, AWS, Slack and OpenAI-style tokens,
  JWTs, PEM blocks and long base64 runs (40+ characters with upper and lower case and digits,
  and random-looking: what a bare PEM body line or an encoded key looks like). A hex run (a
  commit SHA, a digest) is not a secret and stays, and so do long camel-case identifiers and
  paths (their character entropy is well below a random string's);
* **control characters go** (:func:`visible`): C0 and C1 controls, DEL, NUL, the bidi
  overrides, embeddings, isolates and marks, zero-width and other invisible format
  characters, variation selectors and tags (hidden-text smuggling), line and paragraph
  separators, lone surrogates (they cannot be sent as UTF-8); a tab becomes a space, except in
  code;
* **nothing links or notifies**: issue references (``#1``, ``owner/repo#2``, ``GH-3``),
  ``@mentions``, URLs (any scheme), ``www.`` hosts and e-mail addresses are put in inline
  code. GitHub's reference, mention and autolink filters run on the rendered HTML and skip
  text inside ``<code>``, so this holds whatever follows the reference. HTML entities
  (``&#35;1``) would *not* be sound: the filters see the decoded text ``#1``. The
  untrusted text's own ``&`` is escaped, so it cannot write an entity either. ``[``, ``]``,
  ``!`` and backticks are backslash-escaped, so ``[text](url)``, images and reference links
  are plain text and a stray backtick cannot pair with one of our code spans; ``<`` and
  ``>`` are entities, so there is no raw HTML (``<img>``, ``<details>``, ``<a href>``);
* **no block markup**: in a one-line field newlines are spaces; in a message, a line cannot
  start a heading, quote, list, rule, table, fence or HTML block (its leading marker is
  escaped, indentation dropped).

Inline code the text already has is kept as code, with controls removed and secrets
redacted. :func:`cut` shortens markdown at a line boundary within its limit and closes any
fence or ``<details>`` it would leave open, so a note or marker after it is never inside one.
"""

from __future__ import annotations

import math
import re
from collections import Counter

REDACTED = "[redacted]"

_KNOWN = re.compile(
    "|".join(
        f"(?:{p})"
        for p in (
            r"-----BEGIN[A-Z0-9 ]{0,40}-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}-----|$)",
            r"(?<![A-Za-z0-9])(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,})",
            r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])",
            r"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}",
            r"(?<![A-Za-z0-9])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
            r"(?<![A-Za-z0-9])eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
        )
    )
)
"""Secrets of a known shape (found first, also inside a longer run such as ``X_ghp_...``)."""
_RUN = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}")
"""A long base64 (or base64url) run: a secret when it looks random (:func:`_is_random`)."""
_HEX = re.compile(r"[0-9a-fA-F]+")
_MIN_ENTROPY = 4.3
"""Bits per character: random base64 of 40 characters scores about 4.7 (99% above 4.3);
identifiers and paths of that length score about 4.0-4.2."""

_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ud800-\udfff\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\ufffe\uffff\U000e0000-\U000e0fff]"
)

_HAZARD = re.compile(
    r"(?:[a-z][a-z0-9+.-]{1,15}:/{1,3}[^\s`<>]+"  # scheme://host/...
    r"|mailto:[^\s`<>]+"
    r"|www\.[^\s`<>]+"
    r"|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"  # e-mail autolinks
    r"|@[a-z0-9][\w-]*(?:/[\w.-]+)?"  # @user, @org/team
    r"|(?<![\w./-])[\w.-]+/[\w.-]+#\d+"  # owner/repo#2
    r"|#\d+"  # #1, whatever comes before or after it
    r"|GH-\d+)",
    re.IGNORECASE,
)
_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)")
_BLOCK_START = re.compile(
    r"(?:(#)#{0,5}|([+-])|\d{1,9}([.)]))(?:[ \t]|$)"  # heading, list item
    r"|([-=])[-= \t]*$"
)  # rule, setext underline
_ESCAPES = str.maketrans(
    {c: "\\" + c for c in "\\[]|!*_~`"} | {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
)


def _entropy(text: str) -> float:
    n = len(text)
    return -sum(k / n * math.log2(k / n) for k in Counter(text).values())


def _known(token: str) -> str:
    if token.startswith("sk-") and not re.search(r"[0-9]", token):
        return token  # an OpenAI-style key has digits; "sk-some-long-option-name" does not
    return REDACTED


def _is_random(token: str) -> bool:
    core = token.rstrip("=")
    if _HEX.fullmatch(core):
        return False  # a commit SHA or a digest
    kinds = sum(bool(re.search(p, core)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return kinds == 3 and ("+" in core or _entropy(core) >= _MIN_ENTROPY)


def redact(text: str) -> str:
    """``text`` with secret-looking strings replaced by ``[redacted]``."""
    text = _KNOWN.sub(lambda m: _known(m.group(0)), text)
    return _RUN.sub(lambda m: REDACTED if _is_random(m.group(0)) else m.group(0), text)


def visible(text: str) -> str:
    """``text`` without control or invisible characters (a tab becomes a space)."""
    return _INVISIBLE.sub("", text.replace("\t", " ").replace("\r\n", "\n"))


def code_text(text: str) -> str:
    """What :func:`code_span` shows of ``text``: secrets redacted, controls removed, one line."""
    return " ".join(visible(redact(text)).split("\n"))


def code_span(text: str) -> str:
    """``text`` as inline code, with more backticks around it than it contains (already
    cleaned text: see :func:`code_text`)."""
    text = " ".join(text.split("\n")) or " "
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _render(pieces: list[tuple[bool, str]]) -> str:
    """Plain pieces escaped, code pieces as code spans; neighbouring code pieces become one
    span (two spans side by side would read as one run of backticks and not close)."""
    out: list[str] = []
    code: list[str] = []
    for is_code, piece in pieces:
        if is_code:
            code.append(piece)
            continue
        if code:
            out.append(code_span("".join(code)))
            code = []
        out.append(piece.translate(_ESCAPES))
    if code:
        out.append(code_span("".join(code)))
    return "".join(out)


def _prose(text: str, pieces: list[tuple[bool, str]]) -> None:
    """Untrusted prose outside code, split into plain pieces and hazards (shown as code)."""
    last = 0
    for m in _HAZARD.finditer(text):
        pieces += [(False, text[last : m.start()]), (True, m.group(0))]
        last = m.end()
    pieces.append((False, text[last:]))


def _inline(text: str) -> str:
    """Prose with its own inline code kept as code, markdown punctuation and HTML escaped,
    references, mentions and links in code."""
    pieces: list[tuple[bool, str]] = []
    last = 0
    for m in _SPAN.finditer(text):
        _prose(text[last : m.start()], pieces)
        pieces.append((True, m.group(2).strip() or " "))
        last = m.end()
    _prose(text[last:], pieces)
    return _render([p for p in pieces if p[0] or p[1]])


def _no_block(line: str) -> str:
    """``line`` (already inline-safe) with a leading heading, list, rule or setext marker
    escaped. (``>``, ``<``, ``|``, ``*``, ``_``, ``~`` and backticks are escaped everywhere;
    a line starting with one of our code spans is never a fence: its info string would hold
    a backtick.)"""
    m = _BLOCK_START.match(line)
    if m is None:
        return line
    at = next(m.start(i) for i in range(1, 5) if m.group(i) is not None)
    return f"{line[:at]}\\{line[at:]}"


def _shorten(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def safe_line(text: str, limit: int | None = None) -> str:
    """One line of untrusted text for markdown (titles, reasons, list items, table cells),
    at most ``limit`` characters of it (before escaping)."""
    return _no_block(_inline(_shorten(" ".join(visible(redact(text)).split()), limit)))


def safe_block(text: str) -> str:
    """Several lines of untrusted text for markdown (a finding's message): no line starts
    block markup."""
    lines = [_no_block(_inline(raw.strip())) for raw in visible(redact(text)).split("\n")]
    return "\n".join(lines).strip("\n")


def safe_code(code: str) -> str:
    """Code shown inside a fence: secrets redacted, controls removed, tabs and lines kept."""
    return _INVISIBLE.sub("", redact(code).replace("\r\n", "\n"))


def safe_plain(text: str, limit: int, *, max_bytes: int | None = None) -> str:
    """Untrusted text for a plain-text field (a check-run annotation, a log line): at most
    ``limit`` characters and, when given, ``max_bytes`` bytes of UTF-8."""
    text = _shorten(visible(redact(text)), limit)
    if max_bytes is not None and len(text.encode()) > max_bytes:
        text = text.encode()[: max(max_bytes - 3, 0)].decode(errors="ignore") + "…"
    return text


_OPENER = re.compile(r" {0,3}(?:(`{3,})[^`]*|(~{3,}).*)")
_CLOSER = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")


def _after(line: str, fence: str | None, details: int) -> tuple[str | None, int]:
    """The (open fence, open <details> count) after ``line``."""
    if fence is not None:
        m = _CLOSER.fullmatch(line)
        if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
            return None, details
        return fence, details
    m = _OPENER.fullmatch(line)
    if m:
        return m.group(1) or m.group(2), details
    if line.startswith("<details>"):
        details += 1
    if line.startswith("</details>") or line.endswith("</details>"):
        details = max(details - 1, 0)
    return None, details


def cut(text: str, limit: int, note: str = "… (truncated)") -> str:
    """``text`` shortened to at most ``limit`` characters, note included, at a line
    boundary; a fence or ``<details>`` left open is closed, so nothing after the cut (the
    note, a marker) lands inside code or a collapsed section."""
    if len(text) <= limit:
        return text
    kept: list[str] = []
    size = 0
    fence: str | None = None
    details = 0
    for line in text.split("\n"):
        nfence, ndetails = _after(line, fence, details)
        closing = (len(nfence) + 1 if nfence else 0) + ndetails * len("</details>\n")
        if size + len(line) + 1 + closing + len(note) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
        fence, details = nfence, ndetails
    tail = ([fence] if fence else []) + ["</details>"] * details
    return "\n".join(kept + tail) + f"\n\n{note}"
