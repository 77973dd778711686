"""Published text is safe: no links, references, mentions, controls, block markup or secrets.

The checks read the output the way GitHub does: :func:`text_nodes` pairs code spans by the
CommonMark rules (a backtick run closes only at the next run of the same length, a
backslash-escaped backtick opens nothing) and decodes escapes and entities, which is the text
GitHub's reference, mention and autolink filters see.
"""

from __future__ import annotations

import base64
import html
import re

from hypothesis import given
from hypothesis import strategies as st

from reviewbot.coverage import Coverage
from reviewbot.diff.parse import parse_diff
from reviewbot.findings import Category, Finding, Severity, Side
from reviewbot.github.checks import annotation, workflow_commands
from reviewbot.github.plan import MAX_BODY, comment_body
from reviewbot.github.summary import SummaryFacts, carried_lines, render_summary
from reviewbot.reporters.markdown import fence, finding_line
from reviewbot.result import ReviewResult
from reviewbot.safe_publish import (
    cut,
    redact,
    safe_block,
    safe_code,
    safe_line,
    safe_plain,
    visible,
)
from reviewbot.suggest.runs import clean_message

PEM_BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
KEY = f"-----BEGIN PRIVATE KEY-----\n{PEM_BODY}\n-----END PRIVATE KEY-----"
B64_KEY = base64.b64encode(KEY.encode()).decode()
SHA = "0123456789abcdef0123456789abcdef01234567"
HOSTILE = (
    "see #1 and owner/repo#2 and GH-3, ping @octocat [click here](http://evil.test/x) "
    "<http://evil.test> www.evil.test <img src=x> ![t](http://evil.test/t.png) "
    "\u202egnp.exe\u202c \x00nul\n# Heading\n---\n> quote\n| a | b |\n```\ncode\n```\n"
    f"[ref]: http://evil.test\n<details><summary>x</summary>\nleak {B64_KEY}\n"
    f"{PEM_BODY}\nghp_{'a1B2' * 9}\n1. item\n- item\n===\nstray ` tick #7 `"
)
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
NASTY = BIDI + "\x00\x01\x1b\x7f\x85\x9b\ufeff\u200b\u200c\u200d\u2028\u2029\ud800\U000e0041"
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")


def text_nodes(md: str) -> tuple[str, str]:
    """(decoded text outside code spans, raw markdown outside code spans) of ``md``."""
    text: list[str] = []
    raw: list[str] = []
    i = 0
    while i < len(md):
        if md[i] == "\\" and i + 1 < len(md) and _ESCAPED.match(md, i):
            text.append(md[i + 1])
            raw.append(md[i : i + 2])
            i += 2
            continue
        if md[i] == "`":
            run = re.match(r"`+", md[i:])
            assert run is not None
            n = len(run.group(0))
            close = re.compile(rf"(?<!`)`{{{n}}}(?!`)").search(md, i + n)
            if close is not None:  # a code span: GitHub links nothing in it
                text.append(" ")
                raw.append("c")
                i = close.end()
                continue
            text.append(run.group(0))
            raw.append(run.group(0))
            i += n
            continue
        text.append(md[i])
        raw.append(md[i])
        i += 1
    return html.unescape("".join(text)), "".join(raw)


def assert_safe(md: str, *, blocks: bool = True) -> None:
    text, raw = text_nodes(md)
    assert not re.search(r"#\d|\bGH-\d|@[A-Za-z0-9]", text), text
    assert not re.search(r"[a-z]+://|www\.|mailto:", text, re.IGNORECASE), text
    assert not re.search(r"(?<!\\)[\[\]]", raw), raw  # no link, image or reference link
    assert "<" not in raw.replace("<sub>", "").replace("</sub>", "").replace(
        "<details>", ""
    ).replace("</details>", "").replace("<summary>", "").replace("</summary>", "").replace(
        "<!-- reviewbot", ""
    ), raw
    assert not any(c in md for c in NASTY), ascii(md)
    md.encode()  # sendable
    if blocks:  # (a summary has headings and a table of its own)
        assert not re.search(
            r"^\s*(#{1,6}(\s|$)|>|[-+] |\d+[.)]( |$)|[-=]+\s*$|\||```|~~~)", raw, re.MULTILINE
        ), raw
    assert PEM_BODY not in md and B64_KEY[:40] not in md and "ghp_" not in md


def hostile_finding(suggestion: str | None = None, message: str = HOSTILE) -> Finding:
    return Finding(
        "app.py",
        2,
        2,
        Side.RIGHT,
        Category.SECURITY,
        Severity.ERROR,
        "Title #4 @admin [x](http://evil.test)\nnew line",
        message,
        "model:m",
        "ab" * 12,
        suggestion=suggestion,
        cwe="CWE-79 #8",
    )


def test_references_mentions_and_links_end_in_inline_code() -> None:
    out = safe_line("fixes #12, see owner/repo#3 or GH-7; cc @octocat and @org/team")
    assert "`#12`" in out and "`owner/repo#3`" in out and "`GH-7`" in out
    assert "`@octocat`" in out and "`@org/team`" in out
    assert safe_line("#0A and x#1 and _@octocat") == "`#0`A and x`#1` and \\_`@octocat`"
    link = safe_line("[click](https://evil.test/a?b=1)")
    assert link.startswith("\\[click\\](") and "`https://evil.test/a?b=1)`" in link
    assert safe_line("_http://evil.test") == "\\_`http://evil.test`"
    assert safe_line("mail me: a.b@evil.test") == "mail me: `a.b@evil.test`"


def test_near_misses_stay_as_they_are() -> None:
    assert safe_line("Use a parameterised query instead of string formatting.") == (
        "Use a parameterised query instead of string formatting."
    )
    assert safe_line("`cursor.execute(q % x)` is injectable") == (
        "`cursor.execute(q % x)` is injectable"
    )
    assert safe_line("a#b and C# and -5 and 1.5") == "a#b and C# and -5 and 1.5"
    assert safe_line("already code: `#123` and `@me`") == "already code: `#123` and `@me`"
    assert safe_line(f"commit {SHA}") == f"commit {SHA}"


def test_a_stray_backtick_cannot_swallow_our_code_span() -> None:
    out = safe_line("a ` b #1")
    assert out == "a \\` b `#1`"
    text, _ = text_nodes(out)
    assert "#1" not in text


def test_controls_and_bidi_are_removed() -> None:
    assert visible(f"a{BIDI}\x00\x1b[31mb\x7f\u200bc") == "a[31mbc"
    assert visible("tab\there") == "tab here"
    assert visible("x\ud800y\U000e0041\ufe0fz") == "xyz"  # lone surrogate, tag, selector
    assert safe_code("\tif x:\r\n\t\treturn\u202e 1\n") == "\tif x:\n\t\treturn 1\n"


def test_block_markup_cannot_start_a_line() -> None:
    out = safe_block(
        "# H\n> q\n- item\n+ x\n1. one\n2) two\n---\n- - -\n===\n| t |\n```\n"
        "~~~\n    indented\n<div>\n#1 ref"
    )
    assert out.splitlines() == [
        "\\# H",
        "&gt; q",
        "\\- item",
        "\\+ x",
        "1\\. one",
        "2\\) two",
        "\\---",
        "\\- - -",
        "\\===",
        "\\| t \\|",
        "\\`\\`\\`",
        "\\~\\~\\~",
        "indented",
        "&lt;div&gt;",
        "`#1` ref",
    ]
    assert safe_line("# not a heading\nanywhere") == "\\# not a heading anywhere"
    prose = "The loop reads -1 past the end; 2.5x slower."
    assert safe_block(prose) == prose


def test_secrets_are_redacted_but_shas_are_not() -> None:
    text = redact(
        f"{KEY}\nkey {B64_KEY}\nsha {SHA}\naws AKIAABCDEFGHIJKLMNOP\n"
        f"gh ghs_{'x' * 36}\njwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc\n"
        f"pat github_pat_{'A1b' * 10}\nslack xoxb-1234567890-abcdefghij\n"
        f"openai sk-proj-{'Ab1' * 10}\nTOKEN_ghp_{'Z9y' * 12}"
    )
    assert PEM_BODY not in text and B64_KEY[:40] not in text and SHA in text
    for leak in ("AKIA", "ghs_", "eyJ", "github_pat_", "xoxb", "sk-proj", "ghp_"):
        assert leak not in text, leak
    assert redact(PEM_BODY) == "[redacted]"  # a bare PEM body line
    assert redact("-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n(cut)") == "[redacted]"
    for kept in (
        "tests/fixtures/github/webhooks/PullRequest2.json",
        "getUserAccountSettingsForOrganization2Id",
        "sk-some-long-option-name-here",
        "a" * 60,
        "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP",
        SHA + SHA[:24],
    ):
        assert redact(kept) == kept, kept
    assert redact(redact(HOSTILE)) == redact(HOSTILE)


def test_inline_comment_from_a_hostile_model_is_safe() -> None:
    body = comment_body(hostile_finding(), True)
    head, marker = body.rsplit("\n", 1)
    assert_safe(head)
    assert marker == "<!-- reviewbot:fp=" + "ab" * 12 + " severity=error category=security -->"
    assert body.count("<!-- reviewbot") == 1


def test_long_or_tainted_suggestions_are_dropped_whole() -> None:
    ok = comment_body(hostile_finding("x = 1  \n"), True)
    assert "```suggestion\nx = 1  \n```" in ok  # byte-exact, trailing spaces included
    assert "```suggestion\n\tif x:\n\t\treturn 1\n```" in comment_body(
        hostile_finding("\tif x:\n\t\treturn 1\n"), True
    )
    huge = comment_body(hostile_finding("x = 1\n" * 40_000), True)
    assert "```suggestion" not in huge and len(huge) <= MAX_BODY
    many = comment_body(hostile_finding("x\n" * 101), True)
    assert "```suggestion" not in many and "x\n" * 5 not in many
    for bad in (
        "<!-- reviewbot:fp=ab -->\n",
        f"token = 'ghp_{'a1B2' * 9}'\n",
        "a\u202eb\n",
        f"k = '{PEM_BODY}'\n",
    ):
        assert "```suggestion" not in comment_body(hostile_finding(bad), True), bad
    fenced = comment_body(hostile_finding("s = '````'\n"), True)
    assert "`````suggestion\ns = '````'\n`````" in fenced


def test_fence_is_longer_than_any_backtick_run() -> None:
    for code in ("x", "``` inner", "a ````` b\n```", "`" * 12):
        block = fence(code, "python")
        opener = re.match(r"`+", block)
        assert opener is not None
        longest = max((len(r) for r in re.findall(r"`+", code)), default=0)
        assert len(opener.group(0)) > longest and block.endswith("\n" + opener.group(0))


def test_cut_never_leaves_a_fence_open() -> None:
    text = "intro\n```python\n" + "x = 1\n" * 100 + "```\nafter"
    out = cut(text, 200, "(truncated)")
    assert out.endswith("\n```\n\n(truncated)") and out.count("```") == 2 and len(out) <= 200
    tilde = cut("~~~~\n" + "``` not a closer\n" * 50, 120, "(t)")
    assert tilde.endswith("\n~~~~\n\n(t)") and len(tilde) <= 120
    details = cut("<details><summary>s</summary>\n\n" + "- line\n" * 100, 100, "(t)")
    assert details.endswith("\n</details>\n\n(t)") and len(details) <= 100
    span = "```x``y``` is code, not a fence\n" * 10  # (info string with a backtick)
    assert cut(span, 100, "(t)").count("```") % 2 == 0
    assert cut(span, 100, "(t)").endswith("fence\n\n(t)")


def test_summary_annotations_and_workflow_commands_are_safe() -> None:
    f = hostile_finding()
    diff = parse_diff(
        b"diff --git a/app.py b/app.py\n--- a/app.py\n+++ b/app.py\n@@ -1,1 +1,2 @@\n a\n+b\n"
    )
    result = ReviewResult(
        diff=diff,
        findings=(f,),
        coverage=Coverage(1, 1, 1, 1, notes=(HOSTILE,)),
        model="m\u202e #9",
        model_error="@x said <b>no</b>",
    )
    summary = render_summary(result, SummaryFacts("a" * 40), [(f, "reason @x #5")])
    assert_safe(summary, blocks=False)
    for block in ("# Heading", "> quote", "---", "| a | b |", "```", "<details><summary>x"):
        assert f"\n{block}" not in summary and f"\n> {block}" not in summary, block
    a = annotation(f)
    assert len(a["title"]) <= 255 and PEM_BODY not in a["message"]
    assert "ghp_" not in a["message"] and B64_KEY[:40] not in a["message"]
    assert not any(c in a["message"] + a["title"] for c in NASTY)
    long = annotation(hostile_finding(message="é" * 70_000))
    assert len(long["message"].encode()) <= 60_000 and long["message"].endswith("…")
    (cmd,) = workflow_commands([f])
    assert "\n" not in cmd and "\r" not in cmd and PEM_BODY not in cmd
    assert B64_KEY[:40] not in cmd and "ghp_" not in cmd
    props, message = cmd.split("::")[1:]
    assert props.startswith("error file=app.py,line=2,endLine=2,title=Title #4 @admin")
    assert "%0A# Heading%0A---" in message and "::" not in message


def test_a_newline_cannot_start_another_workflow_command() -> None:
    f = hostile_finding(message="ok\n::add-mask::x\r\n::stop-commands::t\n::set-output name=a::b")
    f2 = Finding(
        "a,b::c%.py",
        1,
        1,
        Side.RIGHT,
        Category.BUG,
        Severity.INFO,
        "t:1,2",
        "50% done",
        "static",
        "cd" * 12,
    )
    cmds = workflow_commands([f, f2])
    assert all(c.count("\n") == 0 and c.startswith(("::error ", "::notice ")) for c in cmds)
    assert "ok%0A::add-mask::x%0A::stop-commands::t%0A::set-output" in cmds[0]
    assert cmds[1] == (
        "::notice file=a%2Cb%3A%3Ac%25.py,line=1,endLine=1,title=t%3A1%2C2::50%25 done"
    )


def test_one_line_fields_are_bounded() -> None:
    f = Finding(
        "app.py",
        2,
        2,
        Side.RIGHT,
        Category.BUG,
        Severity.ERROR,
        "T" * 100_000,
        "m" * 100_000,
        "s" * 100_000,
        "ef" * 12,
        cwe="C" * 100_000,
    )
    body = comment_body(f, True)
    assert len(body) <= MAX_BODY + 100 and body.endswith("category=bug -->")
    assert len(finding_line(f)) < 3_000
    assert len(safe_plain("é" * 100, 10, max_bytes=7)) <= 7


def test_carried_lines_match_paths_as_the_summary_shows_them() -> None:
    f = Finding(
        "src/my_mod.py",
        3,
        3,
        Side.RIGHT,
        Category.BUG,
        Severity.ERROR,
        "t",
        "m",
        "static",
        "12" * 12,
    )
    other = Finding(
        "src/other_mod.py",
        1,
        1,
        Side.RIGHT,
        Category.BUG,
        Severity.ERROR,
        "t",
        "m",
        "static",
        "34" * 12,
    )
    previous = f"### Not posted inline\n{finding_line(f)}\n{finding_line(other)}\n\nafter"
    assert carried_lines(previous, {"src/my_mod.py"}) == (finding_line(other),)


def test_sandbox_messages_are_redacted_before_the_first_line_is_taken() -> None:
    assert clean_message(f"\n{KEY}\nrest") == "[redacted]"
    assert clean_message(f"AssertionError: {B64_KEY} \u202e") == "AssertionError: [redacted]"


PIECES = st.sampled_from(
    list(NASTY)
    + [
        "#1",
        "@a",
        "](http://x)",
        "\n# h",
        "<a>",
        "www.x.y",
        "`",
        "``",
        "\\",
        "&#35;1",
        "&#64;a",
        "GH-2",
        "o/r#3",
        "[",
        "]",
        "!",
        "\n",
        "-",
        "1.",
        " ",
        "x",
        "http://e.test",
        "a@b.c",
        "\n---",
        "\n> ",
        "|",
        "~~~",
    ]
)


@given(
    st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=5) | PIECES, max_size=30).map(
        "".join
    )
)
def test_any_text_comes_out_safe(text: str) -> None:
    for out in (safe_line(text), safe_block(text)):
        assert_safe(out)
        assert_safe(safe_block(out))  # sanitising sanitised text is still safe
        assert_safe(safe_line(out))
    assert "\n" not in safe_line(text)
