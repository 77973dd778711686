"""Which functions get test suggestions, and what is known about each (tree-sitter)."""

from __future__ import annotations

from reviewbot.config import Config
from reviewbot.diff.parse import parse_diff
from reviewbot.prepare import prepare_files
from reviewbot.sources import MappingReader, NullReader
from reviewbot.suggest.targets import (
    HeadFiles,
    Param,
    Target,
    is_test_path,
    module_for,
)
from tests.conftest import GitRepo
from tests.suggest_support import calc_repo, head_targets


def targets_of(repo: GitRepo, limit: int = 20) -> list[Target]:
    return head_targets(repo, limit)[0]


def test_changed_public_functions_and_methods_of_the_example(git_repo: GitRepo) -> None:
    targets = targets_of(calc_repo(git_repo))
    assert [t.full_name for t in targets] == [
        "calc.ops.add",
        "calc.ops.divide",
        "calc.ops.Accumulator.push",
        "calc.rounding.round_to",
    ]
    # subtract is unchanged, _check is private, __init__ is not public API
    add, divide, push, _ = targets
    assert add.params == (
        Param("a", "positional"),
        Param("b", "positional"),
        Param("precision", "positional", "2"),
    )
    assert divide.params[-1] == Param("precision", "keyword_only", "2")
    assert divide.raises == ("ZeroDivisionError",)
    assert (push.kind, push.class_name, push.raises) == ("method", "Accumulator", ("ValueError",))
    assert push.context.startswith("class Accumulator:\n    def __init__(self, start")
    assert push.code.startswith("def push(self, value: float, times: int = 1)")
    assert (divide.path, divide.import_root, divide.line) == ("calc/ops.py", "", 14)


def test_kinds_params_raises_and_what_is_left_out(git_repo: GitRepo) -> None:
    base = "def keep():\n    return 1\n\n\ndef touched_by_decorator():\n    return 2\n"
    git_repo.write("pkg/__init__.py", "")
    git_repo.write("pkg/mod.py", base)
    git_repo.commit("base")
    git_repo.write(
        "pkg/mod.py",
        base.replace("def touched_by_decorator", "@staticmethod\ndef touched_by_decorator")
        + """

class Box:
    @property
    def size(self) -> int:
        return 1

    @classmethod
    def make(cls, *args: int, fast=True, **kw: str) -> "Box":
        raise errors.BoxError("x")

    @staticmethod
    def check(a, /, b, *, c=None):
        def inner():
            raise KeyError("not mine")
        try:
            pass
        except OSError:
            raise
        raise TypeError

    async def fetch(self, url: str = "x") -> None:
        pass

    class _Hidden:
        def visible_name(self) -> None:
            pass


def outer():
    def nested():
        pass
""",
    )
    git_repo.commit("change")
    targets = {t.qualname: t for t in targets_of(git_repo)}
    assert set(targets) == {
        "touched_by_decorator",
        "Box.size",
        "Box.make",
        "Box.check",
        "Box.fetch",
        "outer",
    }
    assert targets["Box.size"].kind == "property"
    make = targets["Box.make"]
    assert make.kind == "classmethod"
    assert [p.kind for p in make.params] == [
        "positional",
        "var_positional",
        "keyword_only",
        "var_keyword",
    ]
    assert make.raises == ("errors.BoxError",)
    check = targets["Box.check"]
    assert [(p.name, p.kind) for p in check.params] == [
        ("a", "positional_only"),
        ("b", "positional"),
        ("c", "keyword_only"),
    ]
    assert check.raises == ("TypeError",)  # not the nested function's, not a bare re-raise
    assert targets["Box.fetch"].is_async
    assert targets["outer"].module == "pkg.mod"


def test_limit_keeps_the_first_targets_in_diff_order(git_repo: GitRepo) -> None:
    assert [t.name for t in targets_of(calc_repo(git_repo), limit=2)] == ["add", "divide"]


def test_module_names_follow_packages() -> None:
    files = {"src/calc/__init__.py": b"", "src/calc/sub/__init__.py": b"", "lib/__init__.py": b""}
    read = MappingReader(files).read
    assert module_for("src/calc/sub/ops.py", read) == ("src", "calc.sub.ops")
    assert module_for("src/calc/__init__.py", read) == ("src", "calc")
    assert module_for("tool.py", read) == ("", "tool")
    assert module_for("scripts/run.py", read) == ("scripts", "run")  # not a package
    assert module_for("my-dir/bad-name.py", read) is None
    assert module_for("README.md", read) is None


def test_test_files_are_never_targets() -> None:
    assert is_test_path("tests/test_x.py") and is_test_path("pkg/x_test.py")
    assert is_test_path("conftest.py") and is_test_path("pkg/tests/helpers.py")
    assert not is_test_path("pkg/testing_tools.py")
    assert not is_test_path("calc/ops.py")


def test_head_files_overlay() -> None:
    diff = parse_diff(b"""diff --git a/new.py b/new.py
new file mode 100644
--- /dev/null
+++ b/new.py
@@ -0,0 +1,2 @@
+def f():
+    return 1
diff --git a/old.py b/old.py
deleted file mode 100644
--- a/old.py
+++ /dev/null
@@ -1 +0,0 @@
-x = 1
diff --git a/mod.py b/mod.py
--- a/mod.py
+++ b/mod.py
@@ -1 +1 @@
-y = 1
+y = 2
""")
    reader = NullReader()
    prepared, _ = prepare_files(diff, reader, Config())
    head = HeadFiles(diff, prepared, MappingReader({"old.py": b"x = 1\n", "other.py": b"z\n"}))
    assert head.read("new.py") == b"def f():\n    return 1\n"  # added: the diff is the file
    assert head.read("old.py") is None  # deleted by the change
    assert head.read("mod.py") is None  # modified, head unknown: a partial stand-in is no file
    assert head.read("other.py") == b"z\n"
