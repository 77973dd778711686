"""Throughput of the whole non-LLM pipeline, through the real CLI.

Builds a throw-away git repository from real Python source (the standard library of the
interpreter running this script), commits it (A), mutates it deterministically (B: edited
expressions, inserted guard blocks, and a few functions that trip the static rules), then
runs, as a subprocess, exactly what a user runs:

    reviewbot diff A..B --format json --no-tests --fail-on none

which parses the diff, reads every head file from git objects, finds tree-sitter context,
runs the static checks, packs chunks under the token budget and writes JSON. Reports changed
lines per second (wall time of the whole process, interpreter start-up included) and peak
memory (ru_maxrss of the reviewbot process and the git processes it runs, via
resource.getrusage(RUSAGE_CHILDREN) in a wrapper process). Also measures `reviewbot
--version` start-up, and the prompt efficiency of the chunks the engine would send to a
model: the share of prompt tokens that is the shared prefix (system prompt, identical for
every chunk, so vLLM's prefix cache serves it), and prompt tokens per changed line.

    .venv/bin/python benchmarks/pipeline.py             # 3 timed runs, targets checked
    .venv/bin/python benchmarks/pipeline.py --runs 5 --files 300
    .venv/bin/python benchmarks/pipeline.py --profile   # cProfile of one in-process run

Also runs the change with ``ruff: enabled: false`` and compares the static stage's time
(the engine's ``timings["static"]``) with and without the built-in ruff source.

Exit status 1 when a target is missed: >= 10,000 changed lines/s, < 300 MB peak RSS,
`reviewbot --version` < 150 ms (median), the static stage with ruff at most 1.5x as slow
as without.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

GIT_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
TARGET_LINES_PER_S = 10_000
TARGET_PEAK_MB = 300
TARGET_STARTUP_MS = 150
TARGET_RUFF_RATIO = 1.5

# Runs a command, then reports its wall time and the peak RSS of it and its descendants.
_WRAPPER = """\
import json, resource, subprocess, sys, time
t = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    code = subprocess.run(sys.argv[2:], stdout=out).returncode
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"code": code, "wall": wall, "maxrss_kb": ru.ru_maxrss,
                  "cpu": ru.ru_utime + ru.ru_stime}))
"""

_TRIGGERS = '''

def _bench_handler_{n}(cur, query, payload, seen=[]):
    """Added by the benchmark: one hit for each of several static rules."""
    try:
        value = eval(payload)
    except:
        pass
    cur.execute(f"SELECT * FROM orders WHERE customer = '{{query}}'")
    if query is "admin":
        seen.append(value)
    return yaml.load(payload)
'''
_ASSIGN = re.compile(r"^(\s+)([A-Za-z_][A-Za-z0-9_.]*) = ([^#\\]+[^,(\[{\\:\s])\s*$")
_RETURN = re.compile(r"^(\s+)return ([^#\\]+[^,(\[{\\:\s])\s*$")
_STATEMENT = re.compile(r"^(\s{4,})(return|if|for|raise|while)\b")


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "REVIEWBOT_"))}
    return {**env, **GIT_ID, "NO_COLOR": "1"}


def git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=root, env=clean_env(), check=True, capture_output=True)
    return out.stdout.decode().strip()


def stdlib_sources(count: int) -> list[Path]:
    """``count`` real modules of this interpreter's standard library, chosen by a fixed
    rule (sorted, 3-60 KB, every third one) so every run reviews the same change."""
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p
        for p in root.rglob("*.py")
        if not {"site-packages", "test", "tests", "idle_test"} & set(p.parts)
        and 3_000 <= p.stat().st_size <= 60_000
    )
    chosen = files[::3][:count]
    if len(chosen) < count:
        chosen = files[:count]
    if len(chosen) < count:
        sys.exit(f"only {len(chosen)} suitable standard-library files in {root}")
    return chosen


def mutate(text: str, n: int) -> str:
    """A deterministic, mostly syntax-preserving edit of one module."""
    rng = random.Random(n)
    lines = text.split("\n")
    out: list[str] = []
    budget_edits = max(16, len(lines) // 12)
    for i, line in enumerate(lines):
        roll = rng.random()
        m = _ASSIGN.match(line)
        if m and roll < 0.6 and budget_edits > 0:
            out.append(f"{m.group(1)}{m.group(2)} = ({m.group(3).rstrip()})")
            budget_edits -= 1
            continue
        m = _RETURN.match(line)
        if m and roll < 0.6 and budget_edits > 0:
            out.append(f"{m.group(1)}return ({m.group(2).rstrip()})")
            budget_edits -= 1
            continue
        m = _STATEMENT.match(line)
        if m and roll < 0.25 and i > 0 and lines[i - 1].rstrip().endswith(":"):
            ind = m.group(1)
            out += [
                f"{ind}if __debug__ and {n} < 0:  # bench guard {i}",
                f"{ind}    raise AssertionError('unreachable {n}:{i}')",
            ]
        out.append(line)
    body = "\n".join(out)
    if n % 5 == 0:
        body = body.rstrip("\n") + "\n" + _TRIGGERS.format(n=n)
    return body


def build_repo(root: Path, files: int) -> tuple[str, str, int]:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.autocrlf", "false")
    sources = stdlib_sources(files)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    targets = []
    for src in sources:
        rel = Path("lib") / src.relative_to(stdlib)
        dst = root / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(src.read_bytes())
        targets.append(dst)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "A: standard library snapshot")
    a = git(root, "rev-parse", "HEAD")
    for n, dst in enumerate(targets):
        text = dst.read_text(encoding="utf-8", errors="surrogateescape")
        dst.write_text(mutate(text, n), encoding="utf-8", errors="surrogateescape")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "B: mutated")
    b = git(root, "rev-parse", "HEAD")
    return a, b, len(targets)


def reviewbot_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("reviewbot")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "reviewbot"]


def timed_run(root: Path, rev: str, out: Path, *extra: str) -> dict[str, Any]:
    cmd = [
        *reviewbot_cmd(),
        "diff",
        rev,
        "--format",
        "json",
        "--no-tests",
        "--fail-on",
        "none",
        *extra,
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(out), *cmd],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    stats: dict[str, Any] = json.loads(proc.stdout)
    if stats["code"] != 0:
        sys.exit(f"reviewbot exited {stats['code']}: {proc.stderr}")
    return stats


def _static_s(report: Path) -> float:
    timings: dict[str, float] = json.loads(report.read_text(encoding="utf-8"))["timings"]
    return timings.get("static", 0.0)


def startup_ms(runs: int) -> list[float]:
    cmd = [*reviewbot_cmd(), "--version"]
    times = []
    for _ in range(runs + 2):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=clean_env())
        times.append((time.perf_counter() - t) * 1000)
    return times[2:]  # first two warm the page cache


def prompt_efficiency(root: Path, a: str, b: str) -> dict[str, float]:
    """Build the chunks with the engine's own functions and count their prompts."""
    from reviewbot.chunking import FileWork, build_items, estimate_tokens, pack
    from reviewbot.config import Config
    from reviewbot.diff.parse import parse_diff
    from reviewbot.engine import review_requests
    from reviewbot.prepare import prepare_files
    from reviewbot.prompts_render import render
    from reviewbot.sources import git_source

    config = Config()
    source = git_source(root, rev=f"{a}..{b}", env=clean_env())
    diff = parse_diff(source.diff)
    prepared, _ = prepare_files(diff, source.reader, config)
    overhead = estimate_tokens(render("review_system.txt")) + estimate_tokens(
        render("review_user.txt", items="")
    )
    budget = config.llm.max_prompt_tokens - overhead
    work = [
        FileWork(
            pf.diff.path,
            [h.lines for h in pf.diff.hunks],
            pf.source,
            pf.source.language if pf.source else None,
        )
        for pf in prepared
    ]
    items, _ = build_items(
        work,
        budget,
        estimate_tokens,
        window=config.context_lines,
        max_lines=config.max_context_lines,
    )
    chunks = pack(items, budget, estimate_tokens)
    requests = review_requests(chunks, config)
    system = sum(estimate_tokens(r.system) for r in requests)
    total = system + sum(estimate_tokens(r.user) for r in requests)
    changed = sum(item.changed_lines() for c in chunks for item in c.items)
    return {
        "chunks": len(chunks),
        "prompt_tokens": total,
        "prefix_share": system / total,
        "tokens_per_changed_line": total / changed,
        "tokens_per_changed_line_after_prefix_cache": (
            total - system + estimate_tokens(requests[0].system)
        )
        / changed,
        "fill": sum(c.tokens for c in chunks) / (len(chunks) * budget),
    }


def profile(root: Path, rev: str) -> None:
    import cProfile
    import io
    import pstats

    from reviewbot.cli import IO, main

    sink = io.StringIO()
    prof = cProfile.Profile()
    prof.enable()
    main(
        ["diff", rev, "--format", "json", "--no-tests", "--fail-on", "none"],
        IO(sink, sys.stderr, sys.stdin, clean_env(), root),
    )
    prof.disable()
    pstats.Stats(prof).sort_stats("cumulative").print_stats(30)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=240)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="cProfile one in-process run")
    ap.add_argument("--keep", action="store_true", help="keep the temporary repository")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="reviewbot-bench-"))
    try:
        root = tmp / "repo"
        root.mkdir()
        t = time.perf_counter()
        a, b, nfiles = build_repo(root, args.files)
        rev = f"{a}..{b}"
        print(
            f"repository: {nfiles} files from {sysconfig.get_paths()['stdlib']}, "
            f"built in {time.perf_counter() - t:.1f}s ({root})"
        )
        if args.profile:
            profile(root, rev)
            return 0
        runs = [timed_run(root, rev, tmp / f"out{i}.json") for i in range(args.runs)]
        report = json.loads((tmp / "out0.json").read_text(encoding="utf-8"))
        cov = report["coverage"]
        changed = cov["lines_total"]
        walls = [r["wall"] for r in runs]
        wall = statistics.median(walls)
        peak_mb = max(r["maxrss_kb"] for r in runs) / 1024
        rate = changed / wall
        rules: dict[str, int] = {}
        for f in report["findings"]:
            rules[f["source"]] = rules.get(f["source"], 0) + 1
        print(
            f"change: {cov['files_total']} files, {changed} changed lines "
            f"({cov['lines_reviewed']} in chunks), {cov['chunks_total']} chunks; "
            f"{cov['summary']}"
        )
        print(f"findings: {len(report['findings'])} " + json.dumps(dict(sorted(rules.items()))))
        print(f"engine stages (s, first run): {report['timings']}")
        cpu = statistics.median(r["cpu"] for r in runs)
        print(
            f"reviewbot diff A..B --format json: wall {', '.join(f'{w:.2f}' for w in walls)}s"
            f" -> median {wall:.2f}s = {rate:,.0f} changed lines/s "
            f"(target >= {TARGET_LINES_PER_S:,}); CPU {cpu:.2f}s = {changed / cpu:,.0f} lines"
            f" per CPU-second; peak RSS {peak_mb:.0f} MB (target < {TARGET_PEAK_MB}); "
            f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
        )
        # The same run without the static rules, to show where the time goes.
        no_static = tmp / "no-static.yml"
        no_static.write_text("static_checks: false\n", encoding="utf-8")
        bare = [
            timed_run(root, rev, tmp / f"bare{i}.json", "--config", str(no_static))
            for i in range(args.runs)
        ]
        bare_wall = statistics.median(r["wall"] for r in bare)
        bare_cpu = statistics.median(r["cpu"] for r in bare)
        bare_timings = json.loads((tmp / "bare0.json").read_text(encoding="utf-8"))["timings"]
        print(
            f"  without the static rules (static_checks: false): median {bare_wall:.2f}s = "
            f"{changed / bare_wall:,.0f} changed lines/s (CPU {bare_cpu:.2f}s = "
            f"{changed / bare_cpu:,.0f} per CPU-second); stages {bare_timings}; the static "
            f"rules take {report['timings'].get('static', 0) / report['timings']['total']:.0%}"
            " of the engine's time"
        )
        # The same change without ruff, to price the ruff source: the static stage
        # (tree-sitter rules, with ruff running beside them) with and without it, in pairs
        # of runs taken one after the other so a busy machine slows both alike.
        no_ruff = tmp / "no-ruff.yml"
        no_ruff.write_text("ruff:\n  enabled: false\n", encoding="utf-8")
        with_ruff, plain, ratios = [], [], []
        for i in range(max(args.runs, 3)):
            timed_run(root, rev, tmp / f"ruff{i}.json")
            timed_run(root, rev, tmp / f"plain{i}.json", "--config", str(no_ruff))
            with_ruff.append(_static_s(tmp / f"ruff{i}.json"))
            plain.append(_static_s(tmp / f"plain{i}.json"))
            ratios.append(with_ruff[-1] / plain[-1])
        ruff_ratio = statistics.median(with_ruff) / statistics.median(plain)
        ruff_found = sum(1 for f in report["findings"] if f["source"].startswith("ruff."))
        print(
            f"  ruff: static stage {', '.join(f'{t:.2f}' for t in with_ruff)}s with ruff, "
            f"{', '.join(f'{t:.2f}' for t in plain)}s without (ruff: enabled: false): "
            f"medians {statistics.median(with_ruff):.2f}s / {statistics.median(plain):.2f}s"
            f" = {ruff_ratio:.2f}x (target <= {TARGET_RUFF_RATIO}; pairwise "
            f"{', '.join(f'{r:.2f}' for r in ratios)}); {ruff_found} ruff findings"
        )
        starts = startup_ms(10)
        start = statistics.median(starts)
        print(
            f"reviewbot --version: median {start:.0f} ms, min {min(starts):.0f} ms "
            f"(target < {TARGET_STARTUP_MS})"
        )
        eff = prompt_efficiency(root, a, b)
        print(
            f"prompts (chunks the engine would send, estimate_tokens): {eff['chunks']} "
            f"chunks, {eff['prompt_tokens']:,} tokens; shared prefix (system prompt) "
            f"{eff['prefix_share']:.1%} of prompt tokens; "
            f"{eff['tokens_per_changed_line']:.1f} prompt tokens per changed line "
            f"({eff['tokens_per_changed_line_after_prefix_cache']:.1f} when the prefix is "
            f"cached); chunks filled to {eff['fill']:.0%} of the code budget"
        )
        ok = (
            rate >= TARGET_LINES_PER_S
            and peak_mb < TARGET_PEAK_MB
            and ruff_ratio <= TARGET_RUFF_RATIO
            and start < TARGET_STARTUP_MS
            and nfiles >= 200
            and changed >= 10_000
            and report["findings"]
        )
        print("targets: " + ("met" if ok else "MISSED"))
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
