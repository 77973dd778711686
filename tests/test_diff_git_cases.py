"""Diff model edge cases, each produced by real git in a temporary repository.

For every case the parsed file (paths, status, flags) and the GitHub anchors of its changed
lines are checked: ``(path, line, side)`` with RIGHT/new-file numbers for added lines and
LEFT/old-file numbers for removed lines, multi-line ranges only inside one hunk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.diff.model import Diff, FileDiff, FileStatus, LineKind
from reviewbot.diff.parse import parse_diff
from reviewbot.findings import Side
from reviewbot.gitio import Git, copy_candidates
from reviewbot.selection import skip_reason
from reviewbot.sources import git_source
from tests.conftest import GitRepo

R, L = Side.RIGHT, Side.LEFT

TAB_NAME = "tab\there.txt"


def _staged(repo: GitRepo) -> Diff:
    repo.git("add", "-A")
    return parse_diff(git_source(repo.root, staged=True).diff)


def _one(diff: Diff) -> FileDiff:
    assert len(diff.files) == 1, [f.path for f in diff.files]
    return diff.files[0]


def _changed(fd: FileDiff) -> list[tuple[str, str]]:
    return [(ln.kind.value, ln.text) for h in fd.hunks for ln in h.changed()]


def test_rename_without_edits(git_repo: GitRepo) -> None:
    git_repo.write("old_name.py", "".join(f"x{i} = {i}\n" for i in range(10)))
    git_repo.commit()
    git_repo.git("mv", "old_name.py", "pkg_new_name.py")
    fd = _one(_staged(git_repo))
    assert (fd.old_path, fd.new_path, fd.status) == (
        "old_name.py",
        "pkg_new_name.py",
        FileStatus.RENAMED,
    )
    assert fd.similarity == 100 and fd.hunks == () and fd.anchors() == []
    assert skip_reason(fd, (), ()) == "no content change"


def test_rename_with_edits_anchors_on_new_path(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "".join(f"line{i}\n" for i in range(1, 21)))
    git_repo.commit()
    git_repo.git("mv", "a.py", "b.py")
    git_repo.write(
        "b.py", "".join(("CHANGED\n" if i == 10 else f"line{i}\n") for i in range(1, 21))
    )
    fd = _one(_staged(git_repo))
    assert (fd.old_path, fd.new_path, fd.status) == ("a.py", "b.py", FileStatus.RENAMED)
    assert fd.similarity is not None and 50 <= fd.similarity < 100
    assert fd.anchors() == [("b.py", 10, L), ("b.py", 10, R)]
    assert _changed(fd) == [("-", "line10"), ("+", "CHANGED")]
    # context lines of the hunk are commentable on both sides, outside it nothing is
    assert fd.accepts_range(7, 13, R) and fd.accepts_range(7, 13, L)
    assert not fd.accepts_range(1, 10, R) and not fd.accepts_range(20, 20, R)


def test_copy_detected_with_C(git_repo: GitRepo) -> None:
    body = "".join(f"value_{i} = {i} * 2\n" for i in range(1, 31))
    git_repo.write("src.py", body)
    git_repo.commit()
    # git diff -C reports a copy when the source is modified in the same change.
    git_repo.write("src.py", body.replace("value_1 = 1 * 2", "value_1 = 1 * 3"))
    git_repo.write("dst.py", body + "value_31 = 31 * 2\n")
    diff = _staged(git_repo)
    by = diff.by_path()
    dst = by["dst.py"]
    assert (dst.old_path, dst.status) == ("src.py", FileStatus.COPIED)
    assert dst.anchors() == [("dst.py", 31, R)]
    assert by["src.py"].status is FileStatus.MODIFIED
    assert by["src.py"].anchors() == [("src.py", 1, L), ("src.py", 1, R)]


def test_new_and_deleted_files(git_repo: GitRepo) -> None:
    git_repo.write("gone.py", "a = 1\nb = 2\n")
    git_repo.commit()
    git_repo.git("rm", "-q", "gone.py")
    git_repo.write("fresh.py", "x = 1\ny = 2\nz = 3\n")
    git_repo.write("empty.py", "")
    by = _staged(git_repo).by_path()
    fresh, gone, empty = by["fresh.py"], by["gone.py"], by["empty.py"]
    assert (fresh.old_path, fresh.status, fresh.new_mode) == (None, FileStatus.ADDED, "100644")
    assert fresh.anchors() == [("fresh.py", 1, R), ("fresh.py", 2, R), ("fresh.py", 3, R)]
    assert fresh.accepts_range(1, 3, R) and not fresh.accepts_range(1, 3, L)
    assert (gone.new_path, gone.status, gone.old_mode) == (None, FileStatus.DELETED, "100644")
    assert gone.anchors() == [("gone.py", 1, L), ("gone.py", 2, L)]
    assert gone.accepts_range(1, 2, L) and not gone.accepts_range(1, 1, R)
    assert skip_reason(gone, (), ()) == "deleted file"
    assert (empty.status, empty.hunks, empty.anchors()) == (FileStatus.ADDED, (), [])


def test_mode_changes(git_repo: GitRepo) -> None:
    git_repo.write("run.sh", "echo hi\n")
    git_repo.write("dir b/tool.sh", "echo tool\n")
    git_repo.write("both.sh", "echo a\n")
    git_repo.commit()
    for p in ("run.sh", "dir b/tool.sh", "both.sh"):
        (git_repo.root / p).chmod(0o755)
    git_repo.write("both.sh", "echo b\n")
    by = _staged(git_repo).by_path()
    # a path containing " b/" must not be split at it (unidiff does, without ---/+++ lines)
    assert set(by) == {"run.sh", "dir b/tool.sh", "both.sh"}
    for p in ("run.sh", "dir b/tool.sh"):
        fd = by[p]
        assert (fd.old_path, fd.old_mode, fd.new_mode, fd.mode_changed) == (
            p,
            "100644",
            "100755",
            True,
        )
        assert fd.hunks == () and skip_reason(fd, (), ()) == "no content change"
    assert by["both.sh"].mode_changed
    assert by["both.sh"].anchors() == [("both.sh", 1, L), ("both.sh", 1, R)]


def test_binary_files(git_repo: GitRepo) -> None:
    git_repo.write("img.bin", b"\x00\x01\x02\x03")
    git_repo.write("old.bin", b"\x00old")
    git_repo.commit()
    git_repo.write("img.bin", b"\x00\x01\x02\x04")
    git_repo.write("new.bin", b"\x00new")
    git_repo.git("rm", "-q", "old.bin")
    by = _staged(git_repo).by_path()
    assert {p: (fd.status, fd.is_binary) for p, fd in by.items()} == {
        "img.bin": (FileStatus.MODIFIED, True),
        "new.bin": (FileStatus.ADDED, True),
        "old.bin": (FileStatus.DELETED, True),
    }
    for fd in by.values():
        assert fd.hunks == () and fd.anchors() == []
        assert skip_reason(fd, (), ()) == "binary"
    # `git diff --binary` emits "GIT binary patch" data instead of "Binary files differ"
    git_repo.git("add", "-A")
    data = Git(git_repo.root).diff(["--cached", "--binary"])
    assert b"GIT binary patch" in data
    assert all(fd.is_binary for fd in parse_diff(data).files)


def test_no_newline_at_end_of_file(git_repo: GitRepo) -> None:
    git_repo.write("n.py", "a = 1\nb = 2")
    git_repo.commit()
    git_repo.write("n.py", "a = 1\nb = 3")
    fd = _one(_staged(git_repo))
    lines = fd.hunks[0].lines
    assert [(ln.kind.value, ln.text, ln.no_newline_at_eof) for ln in lines] == [
        (" ", "a = 1", False),
        ("-", "b = 2", True),
        ("+", "b = 3", True),
    ]
    assert fd.anchors() == [("n.py", 2, L), ("n.py", 2, R)]
    # adding the missing newline: the old last line lacks it, the new one has it
    git_repo.commit()
    git_repo.write("n.py", "a = 1\nb = 3\n")
    fd = _one(_staged(git_repo))
    assert [(ln.kind.value, ln.no_newline_at_eof) for ln in fd.hunks[0].lines] == [
        (" ", False),
        ("-", True),
        ("+", False),
    ]


def test_crlf_lines(git_repo: GitRepo) -> None:
    git_repo.write("w.py", b"a = 1\r\nb = 2\r\nc = 3\r\n")
    git_repo.commit()
    git_repo.write("w.py", b"a = 1\r\nb = 20\r\nc = 3\r\n")
    fd = _one(_staged(git_repo))
    assert [(ln.kind.value, ln.text, ln.crlf) for ln in fd.hunks[0].lines] == [
        (" ", "a = 1", True),
        ("-", "b = 2", True),
        ("+", "b = 20", True),
        (" ", "c = 3", True),
    ]
    assert fd.anchors() == [("w.py", 2, L), ("w.py", 2, R)]
    assert skip_reason(fd, (), ()) is None


def test_non_utf8_bytes_are_kept_and_file_skipped(git_repo: GitRepo) -> None:
    git_repo.write("latin.txt", b"caf\xe9\nok\n")
    git_repo.commit()
    git_repo.write("latin.txt", b"caf\xe9\nOK\n")
    fd = _one(_staged(git_repo))
    assert fd.invalid_utf8
    ctx = fd.hunks[0].lines[0]
    assert ctx.text.encode("utf-8", "surrogateescape") == b"caf\xe9"  # byte survives
    assert fd.anchors() == [("latin.txt", 2, L), ("latin.txt", 2, R)]
    assert skip_reason(fd, (), ()) == "not UTF-8"


@pytest.mark.parametrize(
    "name",
    [
        "with space.py",
        "dir with space/mod.py",
        "tést/ünïcode.py",
        "日本語.py",
        'q"uote.py',
        "back\\slash.py",
        TAB_NAME,
        "a b/c b/d.py",
    ],
)
def test_awkward_paths(git_repo: GitRepo, name: str) -> None:
    git_repo.write(name, "x = 1\n")
    git_repo.commit()
    git_repo.write(name, "x = 2\n")
    git_repo.git("add", "-A")
    for quote_path in ("false", "true"):
        # reviewbot's own git call (core.quotePath=false) and a user's default `git diff`
        # (octal-escaped non-ASCII) must both give the real path
        data = git_repo.git("-c", f"core.quotePath={quote_path}", "diff", "--cached")
        fd = _one(parse_diff(data.encode("utf-8", "surrogateescape")))
        assert (fd.old_path, fd.new_path) == (name, name)
        assert fd.anchors() == [(name, 1, L), (name, 1, R)]
    fd = _one(parse_diff(git_source(git_repo.root, staged=True).diff))
    assert fd.path == name


def test_awkward_path_rename_and_mode_change(git_repo: GitRepo) -> None:
    git_repo.write('from "x"\tq.py', "a = 1\n")
    git_repo.write("ünï b/mode.sh", "echo\n")
    git_repo.commit()
    (git_repo.root / "tö dir").mkdir()
    git_repo.git("mv", 'from "x"\tq.py', "tö dir/ré name.py")
    (git_repo.root / "ünï b/mode.sh").chmod(0o755)
    by = _staged(git_repo).by_path()
    assert by["tö dir/ré name.py"].old_path == 'from "x"\tq.py'
    assert by["tö dir/ré name.py"].status is FileStatus.RENAMED
    assert by["ünï b/mode.sh"].mode_changed


def test_non_utf8_path_survives(git_repo: GitRepo) -> None:
    raw = b"lat\xe9.py"
    name = raw.decode("utf-8", "surrogateescape")
    (git_repo.root / name).write_bytes(b"x = 1\n")
    git_repo.commit()
    (git_repo.root / name).write_bytes(b"x = 2\n")
    fd = _one(_staged(git_repo))
    assert fd.path == name and fd.path.encode("utf-8", "surrogateescape") == raw


def test_multi_hunk_ranges_stay_within_one_hunk(git_repo: GitRepo) -> None:
    old = [f"v{i} = {i}" for i in range(1, 41)]
    git_repo.write("m.py", "\n".join(old) + "\n")
    git_repo.commit()
    new = list(old)
    new[4] = "v5 = 500"
    new[30] = "v31 = 3100"
    new.insert(31, "extra = 1")
    git_repo.write("m.py", "\n".join(new) + "\n")
    fd = _one(_staged(git_repo))
    assert len(fd.hunks) == 2
    h1, h2 = fd.hunks
    assert fd.anchors() == [
        ("m.py", 5, L),
        ("m.py", 5, R),
        ("m.py", 31, L),
        ("m.py", 31, R),
        ("m.py", 32, R),
    ]
    assert fd.accepts_range(h1.new_start, h1.new_end, R)
    assert fd.accepts_range(31, 32, R) and not fd.accepts_range(5, 31, R)
    assert not fd.accepts_range(32, 31, R)
    assert fd.hunk_for(32, R) is h2 and fd.hunk_for(20, R) is None and fd.hunk_for(20, L) is None
    # new-side numbering is shifted by the inserted line after the second hunk's change
    last = [ln for ln in h2.lines if ln.kind is LineKind.CONTEXT][-1]
    assert last.new_lineno == last.old_lineno + 1


def test_whole_working_tree_diff_accounts_for_every_line(git_repo: GitRepo) -> None:
    """All cases in one change through the engine: every changed line is reviewed or
    listed in the coverage record."""
    from reviewbot.backends.static import StaticBackend
    from reviewbot.config import Config
    from reviewbot.engine import run_review

    git_repo.write("keep.py", "def f(x):\n    return x\n")
    git_repo.write("gone.py", "a = 1\n")
    git_repo.write("bin.dat", b"\x00\x01")
    git_repo.write("mv.py", "".join(f"m{i} = {i}\n" for i in range(12)))
    git_repo.write("latin.txt", b"\xe9\n")
    git_repo.commit()
    git_repo.write("keep.py", "def f(x):\n    return eval(x)\n")
    git_repo.git("rm", "-q", "gone.py")
    git_repo.write("bin.dat", b"\x00\x02")
    git_repo.git("mv", "mv.py", "moved.py")
    git_repo.write("latin.txt", b"\xe8\n")
    git_repo.write("vendor/lib.py", "y = 1\n")
    git_repo.write("package-lock.json", "{}\n")
    git_repo.write("new file.py", "import os\n")
    result = run_review(git_source(git_repo.root), Config(), StaticBackend())
    cov = result.coverage
    skipped = {s.path: s.reason for s in cov.skipped}
    assert skipped == {
        "gone.py": "deleted file",
        "bin.dat": "binary",
        "moved.py": "no content change",
        "latin.txt": "not UTF-8",
    }
    # untracked files are not part of `git diff HEAD`; tracked ones are all accounted for
    assert cov.lines_in_chunks + sum(s.lines for s in cov.skipped) == cov.lines_total
    assert [(f.path, f.line, f.side) for f in result.findings] == [("keep.py", 2, R)]
    git_repo.git("add", "-A")
    result = run_review(git_source(git_repo.root, staged=True), Config(), StaticBackend())
    skipped = {s.path: s.reason for s in result.coverage.skipped}
    assert skipped["vendor/lib.py"] == "vendored" and skipped["package-lock.json"] == "lock file"
    assert "new file.py" not in skipped
    cov = result.coverage
    assert cov.lines_in_chunks + sum(s.lines for s in cov.skipped) == cov.lines_total


def test_git_runner_ignores_user_diff_config(git_repo: GitRepo, tmp_path: Path) -> None:
    """External diff drivers, textconv, noprefix, mnemonic prefixes and colour settings in
    the user's config must not change what reviewbot parses."""
    git_repo.write("a.py", "x = 1\n")
    git_repo.write(".gitattributes", "*.py diff=weird\n")
    git_repo.commit()
    git_repo.write("a.py", "x = 2\n")
    marker = tmp_path / "ext-diff-ran"
    for key, value in (
        ("diff.external", f"touch {marker}; false"),
        ("diff.weird.textconv", "tr a-z A-Z <"),
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("color.ui", "always"),
        ("core.quotePath", "true"),
    ):
        git_repo.git("config", key, value)
    fd = _one(parse_diff(git_source(git_repo.root).diff))
    assert not marker.exists()
    assert fd.path == "a.py" and _changed(fd) == [("-", "x = 1"), ("+", "x = 2")]


def test_submodule_pointer_change_is_skipped(git_repo: GitRepo, tmp_path: Path) -> None:
    sub = GitRepo(tmp_path / "sub")
    sub.root.mkdir()
    sub.git("init", "-q", "-b", "main")
    sub.write("a.txt", "a\n")
    sub.commit()
    git_repo.write("x.py", "x = 1\n")
    git_repo.commit()
    git_repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.root), "sub")
    git_repo.commit("add submodule")
    (git_repo.root / "sub" / "a.txt").write_text("b\n")
    GitRepo(git_repo.root / "sub").commit("move")
    by = _staged(git_repo).by_path()
    fd = by["sub"]
    assert (fd.old_mode, fd.new_mode) == ("160000", "160000") and not fd.mode_changed
    assert [t for _, t in _changed(fd)][0].startswith("Subproject commit ")
    assert skip_reason(fd, (), ()) == "submodule"


def test_symlink_target_change_is_skipped(git_repo: GitRepo) -> None:
    git_repo.write("real.py", "x = 1\n")
    (git_repo.root / "link.py").symlink_to("real.py")
    git_repo.commit()
    (git_repo.root / "link.py").unlink()
    (git_repo.root / "link.py").symlink_to("other.py")
    fd = _one(_staged(git_repo))
    assert (fd.path, fd.new_mode) == ("link.py", "120000")
    assert _changed(fd) == [("-", "real.py"), ("+", "other.py")]
    assert skip_reason(fd, (), ()) == "symlink"


def test_copies_are_looked_for_only_while_affordable(git_repo: GitRepo) -> None:
    """Copy detection compares every new file with every changed one; past ``copy_pairs``
    pairs the diff keeps its renames and shows a copy as a new file (as GitHub does)."""
    body = "".join(f"value_{i} = {i} * 2\n" for i in range(1, 31))
    git_repo.write("src.py", body)
    git_repo.write("old.py", body.replace("value", "other"))
    git_repo.commit()
    git_repo.write("src.py", body.replace("value_1 = 1 * 2", "value_1 = 1 * 3"))
    git_repo.write("dst.py", body + "value_31 = 31 * 2\n")
    git_repo.git("mv", "old.py", "new.py")
    git_repo.git("add", "-A")
    cheap = parse_diff(Git(git_repo.root, copy_pairs=0).diff(["--cached"])).by_path()
    assert cheap["dst.py"].status is FileStatus.ADDED and cheap["dst.py"].old_path is None
    assert cheap["new.py"].status is FileStatus.RENAMED
    full = parse_diff(Git(git_repo.root).diff(["--cached"])).by_path()
    assert (full["dst.py"].status, full["dst.py"].old_path) == (FileStatus.COPIED, "src.py")
    assert full["new.py"].status is FileStatus.RENAMED


def test_copy_candidates_count_new_files_and_sources() -> None:
    patch = (
        b"diff --git a/a.py b/a.py\nindex 1..2 100644\n"
        b"diff --git a/n.py b/n.py\nnew file mode 100644\n"
        b"diff --git a/o.py b/p.py\nrename from o.py\n"
    )
    assert copy_candidates(patch) == (1, 2)
    assert copy_candidates(b"") == (0, 0)
