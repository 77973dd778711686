"""Skeleton suggestions (no model): generated from signatures, checked to level 2, end to end
on the calc example through ``reviewbot diff``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

from reviewbot.backends.static import StaticBackend
from reviewbot.engine import run_review
from reviewbot.result import CheckLevel
from reviewbot.sources import patch_source
from reviewbot.suggest import suggest_tests
from reviewbot.suggest.check import Candidate, level1_reason
from reviewbot.suggest.imports import ImportPolicy
from reviewbot.suggest.skeleton import SKELETON_MARK, skeleton_code
from tests.conftest import GitRepo, run_cli
from tests.suggest_support import calc_repo, config, head_targets, review


def test_skeletons_follow_the_signature_and_pass_level_one(git_repo: GitRepo) -> None:
    targets, _ = head_targets(calc_repo(git_repo))
    by_name = {t.name: t for t in targets}
    divide = skeleton_code(by_name["divide"])
    assert SKELETON_MARK in divide and "pytestmark = pytest.mark.skip(" in divide
    assert '@pytest.mark.parametrize("precision", [2])' in divide
    assert "result = divide(a, b, precision=precision)" in divide
    assert "with pytest.raises(ZeroDivisionError):\n        divide(a, b)" in divide
    push = skeleton_code(by_name["push"])
    assert "instance = Accumulator()  # TODO: constructor arguments" in push
    assert "instance.push(value, times=times)" in push
    assert "with pytest.raises(ValueError):" in push
    for t in targets:
        code = skeleton_code(t)
        ast.parse(code)
        assert (
            level1_reason(Candidate("tests/x.py", t, code, "skeleton"), ImportPolicy(frozenset()))
            is None
        )


def test_non_literal_defaults_async_and_module_exceptions(git_repo: GitRepo) -> None:
    git_repo.write("svc.py", "x = 1\n")
    git_repo.commit("base")
    git_repo.write(
        "svc.py",
        """from json import JSONDecodeError as DecodeErr

LIMIT = 3


class ServiceError(Exception):
    pass


async def fetch(url: str, limit=LIMIT, retries: int = 2, request=None, *rest, **opts):
    if not url:
        raise ServiceError(url)
    if retries < 0:
        raise DecodeErr("x", "", 0)
    if limit is None:
        raise lib.LimitError(limit)
    return url
""",
    )
    git_repo.commit("change")
    (target,), _ = head_targets(git_repo)
    code = skeleton_code(target)
    assert target.module_names == {"DecodeErr", "LIMIT", "ServiceError", "fetch"}
    assert "import asyncio" in code and "from svc import DecodeErr, ServiceError, fetch" in code
    assert "with pytest.raises(DecodeErr):" in code
    last = code.split("def test_fetch_raises_lib_limit_error():\n")[1]
    assert last.startswith(
        "    # TODO: arguments for which fetch() raises lib.LimitError\n"
        "    # TODO: lib.LimitError is not importable from svc; name its "
        "class\n"
    )
    assert "    with pytest.raises(Exception):\n        asyncio.run(fetch(url))\n" in last
    assert '@pytest.mark.parametrize(("retries", "request_"), [(2, None)])' in code
    assert "result = asyncio.run(fetch(url, retries=retries, request=request_))" in code
    assert "limit=" not in code  # a non-literal default is left to the function
    assert "with pytest.raises(ServiceError):" in code
    ast.parse(code)


def test_skeleton_mode_end_to_end_through_the_cli(git_repo: GitRepo, tmp_path: Path) -> None:
    repo = calc_repo(git_repo)
    out = tmp_path / "suggested"
    res = run_cli(
        ["diff", "HEAD~1..HEAD", "--format", "json", "--tests-out", str(out)], cwd=repo.root
    )
    assert res.code == 0, res.err
    doc = json.loads(res.out)
    assert [(t["target"], t["source"], t["level_name"], t["outcome"]) for t in doc["tests"]] == [
        (name, "skeleton", "collected", "skeleton")
        for name in (
            "calc.ops.add",
            "calc.ops.divide",
            "calc.ops.Accumulator.push",
            "calc.rounding.round_to",
        )
    ]
    assert doc["timings"]["tests"] < 20
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "test_ops_accumulator_push.py",
        "test_ops_add.py",
        "test_ops_divide.py",
        "test_rounding_round_to.py",
    ]
    # the written skeletons are real test modules: pytest collects and skips them
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["PYTHONPATH"] = str(repo.root)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(out),
            str(out),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert "6 skipped" in done.stdout, done.stdout + done.stderr

    md = run_cli(["diff", "HEAD~1..HEAD", "--format", "markdown"], cwd=repo.root)
    assert "<details><summary>Suggested tests (4 checked of 4)</summary>" in md.out
    assert "skeleton, check level 2 (collected)" in md.out
    text = run_cli(["diff", "HEAD~1..HEAD", "--no-tests"], cwd=repo.root)
    assert "Suggested tests" not in text.out


def test_a_module_that_cannot_be_imported_stops_its_skeleton_at_level_one(
    git_repo: GitRepo,
) -> None:
    repo = calc_repo(
        git_repo,
        after={
            "calc/rounding.py": "import requests_not_installed\n\n"
            "def round_to(value, precision):\n"
            "    return round(value, precision)\n"
        },
    )
    result = review(repo, config())
    assert {(t.level, t.outcome, t.shown) for t in result.tests} == {
        (CheckLevel.PARSED, "rejected", False)
    }
    assert all("No module named 'requests_not_installed'" in t.reason for t in result.tests)


def test_patch_without_repository(tmp_path: Path) -> None:
    patch = b"""\
diff --git a/tool.py b/tool.py
new file mode 100644
--- /dev/null
+++ b/tool.py
@@ -0,0 +1,4 @@
+def shout(text: str, times: int = 1) -> str:
+    if times < 0:
+        raise ValueError(times)
+    return text.upper() * times
diff --git a/lib/mod.py b/lib/mod.py
--- a/lib/mod.py
+++ b/lib/mod.py
@@ -10,2 +10,2 @@ def f():
 def g(x):
-    return x
+    return x + 1
"""
    result = run_review(
        patch_source(patch, "patch"),
        config(),
        StaticBackend(),
        suggester=lambda ctx: suggest_tests(ctx, execute=True),
    )
    got = {t.target: t for t in result.tests}
    assert got["tool.shout"].level is CheckLevel.COLLECTED  # an added file is whole in the diff
    partial = got["mod.g"]
    assert (partial.level, partial.shown) == (CheckLevel.PARSED, False)
    assert "head version of lib/mod.py is unavailable" in partial.reason
