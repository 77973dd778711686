"""Malformed and unusual diff text: a clear DiffError naming file and line, exit code 2 from
the CLI with no traceback; and the unusual-but-valid forms that must parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.diff.parse import parse_diff
from reviewbot.errors import DiffError
from tests.conftest import GitRepo, run_cli

HEAD = b"diff --git a/pkg/x.py b/pkg/x.py\n--- a/pkg/x.py\n+++ b/pkg/x.py\n"

MALFORMED = {
    # header counts too small: unidiff would silently drop "+c"
    "counts too small": (
        HEAD + b"@@ -1,1 +1,1 @@\n-a\n+b\n+c\n",
        ["pkg/x.py", "line 4", "extra line 7", "silently drop"],
    ),
    "counts too small before next hunk": (
        HEAD + b"@@ -1 +1 @@\n-a\n+b\n c\n@@ -9 +9 @@\n-d\n+e\n",
        ["pkg/x.py", "line 4", "extra line 7"],
    ),
    "counts too large": (
        HEAD + b"@@ -1,3 +1,3 @@\n-a\n+b\n",
        ["pkg/x.py", "line 4", "the diff ends at line 6"],
    ),
    "counts too large before next file": (
        HEAD + b"@@ -1,2 +1,2 @@\n-a\n+b\ndiff --git a/y.py b/y.py\n",
        ["pkg/x.py", "line 4", "stopped at line 7"],
    ),
    "bad @@ header (letters)": (
        HEAD + b"@@ -1,a +1 @@\n-a\n+b\n",
        ["malformed hunk header", "line 4", "pkg/x.py"],
    ),
    "bad @@ header (no closing @@)": (HEAD + b"@@ -1 +1\n-a\n+b\n", ["line 4", "pkg/x.py"]),
    "bad @@ header (three @)": (HEAD + b"@@@ -1 +1 @@\n-a\n+b\n", ["line 4", "pkg/x.py"]),
    "hunk counted from line 0": (HEAD + b"@@ -0,0 +0,1 @@\n+b\n", ["line 0", "line 4"]),
    "hunks out of order": (
        HEAD + b"@@ -10 +10 @@\n-a\n+b\n@@ -2 +2 @@\n-c\n+d\n",
        ["overlaps or precedes", "line 7", "pkg/x.py"],
    ),
    "garbage inside a hunk": (
        HEAD + b"@@ -1,2 +1,2 @@\n-a\n+b\n???\n c\n",
        ["line 4", "stopped at line 7"],
    ),
    "hunk before any file header": (b"@@ -1 +1 @@\n-a\n+b\n", ["line 1", "before any file"]),
    "not a diff": (b"Dear reviewer,\nplease look at my change.\n", ["not a unified diff"]),
    "NUL byte": (HEAD + b"@@ -1 +1 @@\n-a\n+b\x00c\n", ["NUL byte", "line 6", "pkg/x.py"]),
    "binary blob": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["NUL byte", "line 3"]),
    "combined merge diff": (
        b"diff --cc x.py\nindex 1,2..3\n--- a/x.py\n+++ b/x.py\n"
        b"@@@ -1,1 -1,1 +1,1 @@@\n- a\n -b\n++c\n",
        ["line 1", "merge"],
    ),
    "second file broken": (
        HEAD + b"@@ -1 +1 @@\n-a\n+b\n" + b"--- a/y z.py\n+++ b/y z.py\n@@ -1 +1,2 @@\n-a\n+b\n",
        ["y z.py", "line 9"],
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_diff_error_names_file_and_line(name: str) -> None:
    data, needles = MALFORMED[name]
    with pytest.raises(DiffError) as err:
        parse_diff(data)
    text = str(err.value)
    for needle in needles:
        assert needle in text, (needle, text)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_diff_cli_exit_2(name: str, tmp_path: Path) -> None:
    data, needles = MALFORMED[name]
    res = run_cli(["diff", "--patch", "-"], tmp_path, stdin=data)
    assert res.code == 2, res.err
    assert res.err.startswith("reviewbot: error: ") and "Traceback" not in res.err
    assert needles[0] in res.err
    assert "hint:" in res.err  # says what to do next
    assert res.out == ""


def test_malformed_patch_file_cli(tmp_path: Path) -> None:
    patch = tmp_path / "bad.patch"
    patch.write_bytes(MALFORMED["counts too small"][0])
    res = run_cli(["diff", "--patch", str(patch), "--format", "json"], tmp_path)
    assert res.code == 2 and "pkg/x.py" in res.err and res.out == ""


def test_blank_lines_between_files_are_separators() -> None:
    d = parse_diff(
        b"--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n\n\n"
        b"--- a/y.py\n+++ b/y.py\n@@ -1 +1 @@\n-c\n+d\n\n"
    )
    assert [
        (f.path, [(ln.kind.value, ln.text) for h in f.hunks for ln in h.lines]) for f in d.files
    ] == [("x.py", [("-", "a"), ("+", "b")]), ("y.py", [("-", "c"), ("+", "d")])]


def test_empty_context_line_with_stripped_space_counts_as_context() -> None:
    # mail clients and editors strip the single space of an empty context line
    d = parse_diff(b"--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n")
    lines = d.files[0].hunks[0].lines
    assert [(ln.kind.value, ln.text, ln.old_lineno, ln.new_lineno) for ln in lines] == [
        (" ", "a", 1, 1),
        (" ", "", 2, 2),
        ("-", "b", 3, None),
        ("+", "c", None, 3),
    ]


def test_crlf_patch_file() -> None:
    d = parse_diff(b"--- a/x.py\r\n+++ b/x.py\r\n@@ -1,2 +1,2 @@\r\n a\r\n-b\r\n+c\r\n")
    fd = d.files[0]
    assert fd.path == "x.py"
    assert [(ln.text, ln.crlf) for ln in fd.hunks[0].lines] == [
        ("a", True),
        ("b", True),
        ("c", True),
    ]


def test_plain_diff_u_with_timestamps() -> None:
    d = parse_diff(
        b"--- old/x.py\t2024-01-01 10:00:00.000000000 +0000\n"
        b"+++ new/x.py\t2024-01-02 10:00:00.000000000 +0000\n"
        b"@@ -1 +1 @@\n-a\n+b\n"
    )
    assert [(f.old_path, f.new_path) for f in d.files] == [("old/x.py", "new/x.py")]


def test_empty_input_is_an_empty_diff(tmp_path: Path) -> None:
    assert parse_diff(b"").files == ()
    res = run_cli(["diff", "--patch", "-"], tmp_path, stdin=b"")
    assert res.code == 0 and "reviewed 0 of 0 files" in res.out


def test_format_patch_email_parses(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write("a.py", "x = 2\n")
    git_repo.write("b c.py", "y = 1\n")
    git_repo.commit("second")
    mail = git_repo.git("format-patch", "-1", "--stdout").encode()
    assert mail.startswith(b"From ") and b"\n-- \n" in mail
    d = parse_diff(mail)
    assert [(f.path, f.anchors()) for f in d.files] == [
        ("a.py", [("a.py", 1, "LEFT"), ("a.py", 1, "RIGHT")]),
        ("b c.py", [("b c.py", 1, "RIGHT")]),
    ]
