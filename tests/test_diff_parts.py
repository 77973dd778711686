"""parse_diff feeds unidiff one file at a time (bounded memory); the result must be what
parsing the whole diff in one PatchSet gives, the oracle, on real git diffs, on the
malformed cases and on hypothesis-fuzzed diffs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from unidiff.errors import UnidiffParseError
from unidiff.patch import PatchSet

from reviewbot.diff import parse as P
from reviewbot.diff.model import Diff
from reviewbot.errors import DiffError
from reviewbot.gitio import Git
from tests.conftest import GitRepo
from tests.test_diff_malformed import MALFORMED


def whole(data: bytes | str) -> Diff:
    """The parse before per-file parts: one PatchSet over every line."""
    text = P.decode_diff(data)
    if "\x00" in text:
        raise P.nul_error(text)
    lines = P._split_lines(text)
    P.validate_hunks(lines)
    lines = P.disambiguate_headers(lines)
    try:
        patch = PatchSet(lines)
    except UnidiffParseError as exc:
        raise DiffError(f"cannot parse the diff: {exc}") from exc
    if not patch and text.strip() and not any(ln.startswith(("diff ", "--- ")) for ln in lines):
        raise DiffError(
            "the input is not a unified diff (no 'diff --git' or '---/+++' header found)"
        )
    invalid = P._SURROGATE.search(text) is not None
    return Diff(files=tuple(P._convert_file(pf, invalid) for pf in patch))


def outcome(fn: object, data: bytes | str) -> tuple[str, object]:
    assert callable(fn)
    try:
        return "ok", fn(data)
    except DiffError as exc:
        return "error", exc.message.split(":")[0]


def same(data: bytes | str) -> None:
    got, want = outcome(P.parse_diff, data), outcome(whole, data)
    assert got == want


def _git_change(repo: GitRepo) -> bytes:
    repo.write("keep.py", "".join(f"v{i} = {i}\n" for i in range(40)))
    repo.write("old name.py", "".join(f"line{i}\n" for i in range(30)))
    repo.write("gone.txt", "bye\n")
    repo.write("tool.sh", "echo hi\n")
    repo.write("img.bin", b"\x89PNG\x00\x01\x02")
    repo.write("crlf.txt", b"a\r\nb\r\nc\r\n")
    repo.write("src.py", "".join(f"s{i}\n" for i in range(50)))
    repo.commit()
    repo.write("keep.py", "".join(f"v{i} = {i * (i % 7 != 0)}\n" for i in range(40)))
    (repo.root / "b" / "new b").mkdir(parents=True)
    repo.git("mv", "old name.py", "b/new b/name.py")
    repo.write("b/new b/name.py", "".join(("X\n" if i == 9 else f"line{i}\n") for i in range(30)))
    (repo.root / "gone.txt").unlink()
    (repo.root / "tool.sh").chmod(0o755)
    repo.write("img.bin", b"\x89PNG\x00\x03")
    repo.write("crlf.txt", b"a\r\nB\r\nc")
    repo.write("copy.py", "".join(f"s{i}\n" for i in range(50)) + "extra\n")
    repo.write("latin.txt", b"caf\xe9\n")
    repo.write("tab\tname.py", "t = 1\n")
    repo.git("add", "-A")
    return Git(repo.root).diff(["--cached", "-C", "--find-copies-harder"])


def test_real_git_diff_matches_the_whole_parse(git_repo: GitRepo) -> None:
    data = _git_change(git_repo)
    diff = P.parse_diff(data)
    assert len(diff.files) >= 9  # the cut really made several parts
    assert len(list(P.file_parts(P._split_lines(P.decode_diff(data))))) == len(diff.files)
    same(data)


def test_format_patch_matches(git_repo: GitRepo, tmp_path: Path) -> None:
    _git_change(git_repo)
    git_repo.git("commit", "-q", "-m", "change")
    git_repo.git("format-patch", "-1", "-o", str(tmp_path))
    same(next(tmp_path.glob("*.patch")).read_bytes())


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_cases_fail_alike(name: str) -> None:
    same(MALFORMED[name][0])


_NAME = st.sampled_from(["a.py", "pkg/x y.py", "b/c.py", "d b/e.py", '"q\\tu.py"', "f.txt"])
_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\x00"), max_size=12
)


@st.composite
def _hunk(draw: st.DrawFn, start: int) -> tuple[list[str], int]:
    # "e": a bare line end (an empty context line, "\n" or "\r\n" or "\r..."); "\\": a
    # marker line inside the body, which counts as nothing
    kinds = draw(st.lists(st.sampled_from(["+", "-", " ", "e", "\\"]), min_size=1, max_size=6))
    old = sum(k not in "+\\" for k in kinds)
    new = sum(k not in "-\\" for k in kinds)
    section = draw(st.sampled_from(["", " def f():", "  spaced  "]))
    head = f"@@ -{start},{old} +{start},{new} @@{section}\n"
    body = [
        draw(st.sampled_from(["\n", "\r\n", "\rtext\n", "\r\r\n"]))
        if k == "e"
        else f"{k}{draw(_TEXT)}{draw(st.sampled_from(['', chr(13)]))}\n"
        for k in kinds
    ]
    if draw(st.booleans()) and draw(st.booleans()):
        body.append("\\ No newline at end of file\n")
    return [head, *body], start + max(old, 1) + draw(st.integers(1, 5))


@st.composite
def _file(draw: st.DrawFn) -> list[str]:
    a, b = draw(_NAME), draw(_NAME)
    out = [f"diff --git a/{a} b/{b}\n"]
    kind = draw(st.sampled_from(["modify", "rename", "new", "deleted", "mode", "binary", "plain"]))
    if kind == "plain":
        out = []
    elif kind == "rename":
        out += ["similarity index 90%\n", f"rename from {a}\n", f"rename to {b}\n"]
    elif kind == "new":
        out += ["new file mode 100644\n"]
    elif kind == "deleted":
        out += ["deleted file mode 100644\n"]
    elif kind == "mode":
        out += ["old mode 100644\n", "new mode 100755\n"]
        if draw(st.booleans()):
            return out
    elif kind == "binary":
        return [*out, "index 1234567..89abcde 100644\n", f"Binary files a/{a} and b/{b} differ\n"]
    out.append("index 1234567..89abcde 100644\n" if kind != "plain" else "")
    out += [
        f"--- {'/dev/null' if kind == 'new' else 'a/' + a}\n",
        f"+++ {'/dev/null' if kind == 'deleted' else 'b/' + b}\n",
    ]
    start = 1
    for _ in range(draw(st.integers(0 if kind != "plain" else 1, 3))):
        lines, start = draw(_hunk(start))
        out += lines
    if draw(st.booleans()) and draw(st.booleans()):
        out.append("\n")
    return [ln for ln in out if ln]


@st.composite
def _diff(draw: st.DrawFn) -> str:
    lines = [ln for f in draw(st.lists(_file(), min_size=1, max_size=5)) for ln in f]
    if draw(st.booleans()):  # damage it: drop, duplicate or move a line
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["drop", "dup", "move"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(j, lines[i])
        else:
            lines.insert(j, lines.pop(i))
    if draw(st.booleans()):
        lines.insert(0, draw(st.sampled_from(["From: x\n", "Subject: y\n---\n", "\n"])))
    return "".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_diff())
def test_fuzzed_diffs_match_the_whole_parse(data: str) -> None:
    same(data)
    same(data.encode("utf-8", "surrogateescape"))


def test_real_git_output_is_read_by_the_walk_not_the_full_parse(
    git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path really runs: with unidiff's full parse made to fail, a real git
    diff (renames, CRLF, no newline at the end, modes) still parses, to the oracle's model."""
    data = _git_change(git_repo)
    want = whole(data)

    def no_full_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the full unidiff parse ran")

    monkeypatch.setattr(P, "_convert_hunk", no_full_parse)
    assert P.parse_diff(data) == want
