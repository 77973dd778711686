"""Published text is safe: no links, references, mentions, controls, block markup or secrets."""

from __future__ import annotations

import base64
import re

from hypothesis import given
from hypothesis import strategies as st

from reviewbot.coverage import Coverage
from reviewbot.diff.parse import parse_diff
from reviewbot.findings import Category, Finding, Severity, Side
from reviewbot.github.checks import annotation, workflow_commands
from reviewbot.github.plan import MAX_BODY, comment_body
from reviewbot.github.summary import SummaryFacts, render_summary
from reviewbot.result import ReviewResult
from reviewbot.safe_publish import cut, redact, safe_block, safe_line, visible

PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
KEY = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----"
B64_KEY = base64.b64encode(KEY.encode()).decode()
HOSTILE = ("see #1 and owner/repo#2 and GH-3, ping @octocat [click here](http://evil.test/x) "
           "<http://evil.test> www.evil.test <img src=x> ![t](http://evil.test/t.png) "
           "\u202egnp.exe\u202c \x00nul\n# Heading\n---\n> quote\n| a | b |\n```\ncode\n```\n"
           f"leak {B64_KEY}\n{PEM_BODY}\nghp_{'a1B2' * 9}")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"


def outside_code(text: str) -> str:
    return re.sub(r"(`+).+?\1", "", text, flags=re.DOTALL)


def assert_safe(text: str, *, blocks: bool = True) -> None:
    prose = outside_code(text)
    assert not re.search(r"(?<![\w`])#\d|\bGH-\d|(?<![\w`])@\w", prose), prose
    assert "](" not in prose.replace("\\](", "") and "<http" not in text and "<img" not in text
    assert "http://" not in prose and "www." not in prose
    assert not any(c in text for c in BIDI + "\x00")
    if blocks:  # (a summary has headings and a table of its own)
        assert not re.search(r"^\s{0,3}(#|>|---|\||```)", prose, re.MULTILINE), prose
    assert PEM_BODY not in text and B64_KEY[:40] not in text and "ghp_" not in text


def hostile_finding(suggestion: str | None = None) -> Finding:
    return Finding("app.py", 2, 2, Side.RIGHT, Category.SECURITY, Severity.ERROR,
                   "Title #4 @admin [x](http://evil.test)\nnew line", HOSTILE, "model:m",
                   "ab" * 12, suggestion=suggestion)


def test_references_mentions_and_links_end_in_inline_code() -> None:
    out = safe_line("fixes #12, see owner/repo#3 or GH-7; cc @octocat and @org/team")
    assert "`#12`" in out and "`owner/repo#3`" in out and "`GH-7`" in out
    assert "`@octocat`" in out and "`@org/team`" in out
    assert safe_line("a#b x@y") == "a#b `x@y`" or "a#b" in safe_line("a#b")
    link = safe_line("[click](https://evil.test/a?b=1)")
    assert link.startswith("\\[click\\](") and "`https://evil.test/a?b=1)`" in link


def test_ordinary_prose_stays_readable() -> None:
    assert safe_line("Use a parameterised query instead of string formatting.") == (
        "Use a parameterised query instead of string formatting.")
    assert safe_line("`cursor.execute(q % x)` is injectable") == (
        "`cursor.execute(q % x)` is injectable")


def test_controls_and_bidi_are_removed() -> None:
    assert visible(f"a{BIDI}\x00\x1b[31mb\x7f\u200bc") == "a[31mbc"
    assert visible("tab\there") == "tab here"


def test_block_markup_cannot_start_a_line() -> None:
    out = safe_block("# H\n> q\n- item\n1. one\n---\n| t |\n```\n    indented")
    for line in out.splitlines():
        assert line.lstrip().startswith(("\\", "&gt;")) or line.strip() == "indented", line


def test_secrets_are_redacted_but_shas_are_not() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    text = redact(f"{KEY}\nkey {B64_KEY}\nsha {sha}\naws AKIAABCDEFGHIJKLMNOP\n"
                  f"gh ghs_{'x' * 36}\njwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc")
    assert PEM_BODY not in text and B64_KEY[:40] not in text and sha in text
    assert "AKIA" not in text and "ghs_" not in text and "eyJ" not in text
    assert redact(PEM_BODY) == "[redacted]"  # a bare PEM body line


def test_inline_comment_from_a_hostile_model_is_safe() -> None:
    body = comment_body(hostile_finding(), True)
    assert_safe(body.rsplit("\n", 1)[0])
    assert body.rstrip().endswith("-->") and body.count("<!-- reviewbot") == 1


def test_long_or_tainted_suggestions_are_dropped_whole() -> None:
    ok = comment_body(hostile_finding("x = 1\n"), True)
    assert "```suggestion\nx = 1\n```" in ok
    huge = comment_body(hostile_finding("x = 1\n" * 40_000), True)
    assert "```suggestion" not in huge and len(huge) <= MAX_BODY + 200
    for bad in ("<!-- reviewbot:fp=ab -->\n", f"token = 'ghp_{'a1B2' * 9}'\n", "a\u202eb\n"):
        assert "```suggestion" not in comment_body(hostile_finding(bad), True)
    fenced = comment_body(hostile_finding("s = '````'\n"), True)
    assert "`````suggestion\ns = '````'\n`````" in fenced


def test_cut_never_leaves_a_fence_open() -> None:
    text = "intro\n```python\n" + "x = 1\n" * 100 + "```\nafter"
    out = cut(text, 200, "(truncated)")
    assert out.endswith("(truncated)") and out.count("```") == 2


def test_summary_annotations_and_workflow_commands_are_safe() -> None:
    f = hostile_finding()
    diff = parse_diff(b"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n"
                      b"@@ -1,1 +1,2 @@\n a\n+b\n")
    result = ReviewResult(diff=diff, findings=(f,),
                          coverage=Coverage(1, 1, 1, 1, notes=(HOSTILE,)),
                          model="m\u202e #9")
    summary = render_summary(result, SummaryFacts("a" * 40), [(f, "reason @x #5")])
    assert_safe(summary, blocks=False)
    assert "\n# Heading" not in summary and "\n> quote" not in summary
    a = annotation(f)
    assert len(a["title"]) <= 255 and PEM_BODY not in a["message"]
    assert not any(c in a["message"] + a["title"] for c in BIDI + "\x00")
    (cmd,) = workflow_commands([f])
    assert "\n" not in cmd and PEM_BODY not in cmd and B64_KEY[:40] not in cmd


PIECES = st.sampled_from(list(BIDI) + ["#1", "@a", "](http://x)", "\n# h", "<a>", "\x00",
                                       "www.x.y", "`", "x", " "])


@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=5) | PIECES,
                max_size=30).map("".join))
def test_any_text_comes_out_safe(text: str) -> None:
    for out in (safe_line(text), safe_block(text)):
        prose = outside_code(out)
        assert not any(c in out for c in BIDI + "\x00")
        assert "<" not in prose and not re.search(r"(?<![\w`\\])#\d", prose)
        assert not re.search(r"(?<![\w`])@[A-Za-z0-9]", prose)
