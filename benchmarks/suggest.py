"""Test-suggestion checking on a change touching 20 Python functions.

Builds throw-away git repositories and measures, through the real code paths:

1. skeletons (static backend) for a generated change of 20 public functions in 4 modules
   (defaults, keyword-only parameters, explicit raises, methods, an async function): the
   engine's whole test stage (targets, skeletons, levels 1-2) and the share of suggestions
   reaching each level;
2. the same 20 functions with one real test module each (what a model would write): time to
   check levels 1-2 (``--collect-only``) and level 3 (run), all suggestions in one sandboxed
   pytest process, against one process per suggestion for comparison;
3. when ``../shared/data/eval/sven-dev.jsonl`` is present (or ``--sven PATH``): 20 real
   public functions from that data set (each "before" committed, changed to "after", one
   module per function) and the share of skeletons reaching each level.

    .venv/bin/python benchmarks/suggest.py                    # isolation: auto
    .venv/bin/python benchmarks/suggest.py --isolation process --repeat 5
    .venv/bin/python benchmarks/suggest.py --json out.json
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.backends.static import StaticBackend  # noqa: E402
from reviewbot.config import TestsConfig, load_config  # noqa: E402
from reviewbot.diff.parse import parse_diff  # noqa: E402
from reviewbot.engine import run_review  # noqa: E402
from reviewbot.gitio import Git  # noqa: E402
from reviewbot.prepare import prepare_files  # noqa: E402
from reviewbot.result import CheckLevel, TestSuggestion  # noqa: E402
from reviewbot.sources import GitObjectReader, git_source  # noqa: E402
from reviewbot.suggest import suggest_tests  # noqa: E402
from reviewbot.suggest.check import Candidate, check_candidates  # noqa: E402
from reviewbot.suggest.sandbox import namespaces_available  # noqa: E402
from reviewbot.suggest.targets import HeadFiles, Target, find_targets  # noqa: E402

GIT_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
SVEN = ROOT.parent / "shared" / "data" / "eval" / "sven-dev.jsonl"


def git(root: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(["git", *args], cwd=root, env={**env, **GIT_ID}, check=True, capture_output=True)


def make_repo(root: Path, before: dict[str, str], after: dict[str, str]) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    for files, msg in ((before, "before"), (after, "after")):
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", msg)
    return root


def synthetic_function(k: int) -> tuple[str, str]:
    """(source of function k, a real test module for it); five shapes in turn."""
    shape = k % 5
    if shape == 0:
        src = f"def scale_{k}(x: float, factor: float = {k}) -> float:\n    return x * factor\n"
        test = (
            f"def test_scale():\n    assert scale_{k}(2) == {2 * k}\n"
            f"    assert scale_{k}(2, factor=0.5) == 1.0\n"
        )
    elif shape == 1:
        src = (
            f"def pick_{k}(items: list, *, index: int = 0):\n    if not items:\n"
            f"        raise ValueError('empty')\n    return items[index]\n"
        )
        test = (
            f"import pytest\n\ndef test_pick():\n    assert pick_{k}([{k}, 2]) == {k}\n\n"
            f"def test_pick_empty():\n    with pytest.raises(ValueError):\n"
            f"        pick_{k}([])\n"
        )
    elif shape == 2:
        src = (
            f"class Counter{k}:\n    def __init__(self) -> None:\n        self.n = 0\n\n"
            f"    def bump(self, by: int = 1) -> int:\n        if by < 0:\n"
            f"            raise ValueError(by)\n        self.n += by\n        return self.n\n"
        )
        test = (
            f"def test_bump():\n    c = Counter{k}()\n    assert c.bump() == 1\n"
            f"    assert c.bump(by=3) == 4\n"
        )
    elif shape == 3:
        src = (
            f"async def fetch_{k}(key: str, default: str = 'none') -> str:\n"
            f"    return key or default\n"
        )
        test = (
            "import asyncio\n\n"
            f"def test_fetch():\n    assert asyncio.run(fetch_{k}('a')) == 'a'\n"
            f"    assert asyncio.run(fetch_{k}('')) == 'none'\n"
        )
    else:
        src = (
            f"def parse_{k}(text: str, sep: str = ',', strip: bool = True) -> list:\n"
            f"    parts = text.split(sep)\n    return [p.strip() for p in parts] if strip "
            f"else parts\n"
        )
        test = (
            f"def test_parse():\n    assert parse_{k}('a, b') == ['a', 'b']\n"
            f"    assert parse_{k}('a;b', sep=';', strip=False) == ['a', 'b']\n"
        )
    return src, test


def synthetic_change(
    n: int = 20, modules: int = 4
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    before = {
        "pyproject.toml": "[project]\nname = 'bench'\nversion = '0'\n",
        "bench_pkg/__init__.py": "",
    }
    after = dict(before)
    tests: dict[str, str] = {}
    per = n // modules
    for m in range(modules):
        path = f"bench_pkg/mod{m}.py"
        before[path] = f'"""Module {m}."""\n\nVERSION = 1\n'
        parts = [f'"""Module {m}."""\n\nVERSION = 2\n']
        for k in range(m * per, (m + 1) * per):
            src, test = synthetic_function(k)
            parts.append(src)
            tests[f"{m}:{k}"] = test
        after[path] = "\n\n".join(parts)
    return before, after, tests


def head_targets(root: Path) -> tuple[list[Target], HeadFiles]:
    g = Git(root)
    diff = parse_diff(g.diff(["HEAD~1", "HEAD"]))
    reader = GitObjectReader(g, g.rev_parse("HEAD"))
    prepared, _ = prepare_files(diff, reader, load_config(env={}))
    head = HeadFiles(diff, prepared, reader)
    return find_targets(prepared, head.read, 100), head


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def shares(tests: list[TestSuggestion]) -> dict[str, str]:
    counts = Counter(t.level.name.lower() for t in tests)
    total = len(tests) or 1
    return {
        lvl.name.lower(): f"{counts.get(lvl.name.lower(), 0)}/{len(tests)} "
        f"({100 * counts.get(lvl.name.lower(), 0) / total:.0f}%)"
        for lvl in CheckLevel
    }


def skeleton_stage(root: Path, isolation: str, repeat: int) -> dict[str, Any]:
    cfg = load_config(env={}, overrides={"static_checks": False, "tests.max_functions": 100})

    def once() -> Any:
        return run_review(
            git_source(root, rev="HEAD~1..HEAD"),
            cfg,
            StaticBackend(),
            suggester=partial(suggest_tests, isolation=isolation, execute=True),
        )

    seconds, result = timed(once, repeat)
    reasons = Counter(t.reason for t in result.tests if t.level < CheckLevel.COLLECTED)
    return {
        "suggestions": len(result.tests),
        "seconds_median": round(seconds, 3),
        "levels": shares(list(result.tests)),
        "stopped_because": dict(reasons.most_common(5)),
    }


def model_like_stage(
    root: Path, tests: dict[str, str], isolation: str, repeat: int
) -> dict[str, Any]:
    targets, head = head_targets(root)
    cands = []
    for t in targets:
        key = next(
            k
            for k in tests
            if t.name.endswith(f"_{k.split(':')[1]}") or t.class_name == f"Counter{k.split(':')[1]}"
        )
        owner = t.qualname.split(".")[0]
        code = f"from {t.module} import {owner}\n\n" + tests[key]
        cands.append(Candidate(f"tests/test_{t.name}.py", t, code, "model:bench"))
    cfg = TestsConfig(run=True, timeout=30)
    out: dict[str, Any] = {"suggestions": len(cands)}
    for label, run in (("levels_1_2", False), ("level_3_run", True)):

        def batched(run: bool = run) -> Any:
            return check_candidates(
                cands,
                head.read,
                frozenset(),
                cfg,
                run=run,
                base_env=os.environ,
                isolation=isolation,
            )

        def one_by_one(run: bool = run) -> Any:
            return [
                check_candidates(
                    [c],
                    head.read,
                    frozenset(),
                    cfg,
                    run=run,
                    base_env=os.environ,
                    isolation=isolation,
                )
                for c in cands
            ]

        seconds, (results, reports) = timed(batched, repeat)
        single, _ = timed(one_by_one, 1)
        out[label] = {
            "seconds_median": round(seconds, 3),
            "processes": len(reports),
            "levels": shares(results),
            "one_process_per_suggestion_seconds": round(single, 3),
        }
    return out


def sven_change(path: Path, n: int) -> tuple[dict[str, str], dict[str, str]]:
    before = {"sven_pkg/__init__.py": ""}
    after = dict(before)
    taken = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["func_name"].startswith("_"):
                continue
            srcs = []
            for key in ("func_src_before", "func_src_after"):
                text = textwrap.dedent(row[key].replace("\r\n", "\n")).rstrip() + "\n"
                try:
                    ast.parse(text)
                except SyntaxError:
                    break
                srcs.append(text)
            if len(srcs) != 2 or srcs[0] == srcs[1]:
                continue
            mod = f"sven_pkg/m{taken:02d}.py"
            before[mod], after[mod] = srcs
            taken += 1
            if taken == n:
                break
    return before, after


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--isolation", choices=["auto", "process", "namespaces"], default="auto")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--functions", type=int, default=20)
    ap.add_argument("--sven", type=Path, default=SVEN)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    report: dict[str, Any] = {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "isolation": args.isolation
        if args.isolation != "auto"
        else ("namespaces" if namespaces_available(sys.executable) else "process"),
    }
    with tempfile.TemporaryDirectory(prefix="reviewbot-bench-") as tmp:
        before, after, tests = synthetic_change(args.functions)
        root = make_repo(Path(tmp) / "synthetic", before, after)
        report["synthetic_skeletons"] = skeleton_stage(root, args.isolation, args.repeat)
        report["synthetic_model_like"] = model_like_stage(root, tests, args.isolation, args.repeat)
        if args.sven.is_file():
            sb, sa = sven_change(args.sven, args.functions)
            sroot = make_repo(Path(tmp) / "sven", sb, sa)
            report["sven_skeletons"] = skeleton_stage(sroot, args.isolation, args.repeat)
        else:
            report["sven_skeletons"] = f"skipped: {args.sven} not found"
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
