"""Throughput and memory of `reviewbot diff --format json` on five shapes of change.

Each shape is a real git repository in a temporary directory, built from real source text
(the standard library of the interpreter running this script), reviewed by the real CLI in
a subprocess, test suggestions off, static backend:

- ``sparse``: the edits of ``benchmarks/pipeline.py`` (a few per function, 240 files), A..B;
- ``dense``: every 7th line of 167 files edited, one hunk per file, working tree vs HEAD;
- ``hunks``: 10,000 one-line hunks (every 8th line, so git keeps them apart) in files of
  about 2,000 lines, A..B; also at a quarter of the size, for the linearity check;
- ``newfile``: one new 50,000-line file (standard-library modules one after another), A..B;
- ``renames``: 5,000 files renamed into another folder, each with 4 edited lines, A..B
  (the repository sets ``diff.renameLimit``: past 1,000 files git shows adds and deletes).

For each shape: changed lines, wall seconds (interpreter start-up and git included), changed
lines per second (also per second of the engine alone, from its own timings, and per
CPU-second of reviewbot and its git processes: steadier on a shared machine), peak RSS
(ru_maxrss of the reviewbot process and the git processes it runs) and the engine's stage
times. The linearity check compares 2,500 and 10,000 hunks: 4x the hunks may take at most
4.5x the time.

    .venv/bin/python benchmarks/shapes.py              # every shape, 1 run each
    .venv/bin/python benchmarks/shapes.py --quick      # smaller shapes, a quick look
    .venv/bin/python benchmarks/shapes.py --only hunks --profile   # cProfile one shape
    .venv/bin/python benchmarks/shapes.py --big        # also a 200,000-changed-line PR
    .venv/bin/python benchmarks/shapes.py --reports DIR  # keep the JSON reports (diff findings)

Exit status 1 when a target is missed: >= 10,000 changed lines/s on the five shapes (not
on hunks/4, the linearity probe), < 300 MB peak RSS on all, 4x hunks <= 4.5x time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from pipeline import (  # noqa: E402
    _WRAPPER,
    TARGET_LINES_PER_S,
    TARGET_PEAK_MB,
    build_repo,
    clean_env,
    git,
    reviewbot_cmd,
)

TARGET_LINEAR = 4.5
"""4x the hunks may take at most this many times as long."""
_PROBES = frozenset({"hunks/4"})
"""Shapes run for the linearity check only: no lines/s target."""


@dataclass(frozen=True)
class Built:
    rev: str | None
    """None: the working tree against HEAD."""


def _stdlib_files(min_size: int = 3_000, max_size: int = 60_000) -> list[Path]:
    root = Path(sysconfig.get_paths()["stdlib"])
    return sorted(
        p
        for p in root.rglob("*.py")
        if not {"site-packages", "test", "tests", "idle_test"} & set(p.parts)
        and min_size <= p.stat().st_size <= max_size
    )


def _read(p: Path) -> str:
    return p.read_text(encoding="utf-8", errors="surrogateescape")


def _write(p: Path, text: str) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8", errors="surrogateescape")


def _editable(line: str) -> bool:
    s = line.rstrip()
    return bool(s.strip()) and not s.endswith("\\") and not s.lstrip().startswith("#")


def edit_line(line: str, n: int) -> str:
    """One changed line: a trailing comment (harmless inside strings too), so the file
    still parses and its functions are still the ones the rules look at."""
    return f"{line.rstrip()}  # edit {n}" if _editable(line) else f"{line}# edit {n}"


def edit_every(text: str, step: int, limit: int | None = None) -> tuple[str, int]:
    """Edit every ``step``-th line (at most ``limit`` of them); return the text and the
    number of lines edited."""
    lines = text.split("\n")
    done = 0
    for i in range(step - 1, len(lines) - 1, step):
        if limit is not None and done >= limit:
            break
        lines[i] = edit_line(lines[i], i)
        done += 1
    return "\n".join(lines), done


def _commit(root: Path, msg: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", msg)
    return git(root, "rev-parse", "HEAD")


def _init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.autocrlf", "false")


def shape_sparse(root: Path, scale: float) -> Built:
    a, b, _ = build_repo(root, max(20, int(240 * scale)))
    return Built(f"{a}..{b}")


def shape_dense(root: Path, scale: float) -> Built:
    _init(root)
    files = _stdlib_files()[::4][: max(10, int(167 * scale))]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    targets = []
    for src in files:
        dst = root / "lib" / src.relative_to(stdlib)
        _write(dst, _read(src))
        targets.append(dst)
    _commit(root, "A")
    for dst in targets:
        _write(dst, edit_every(_read(dst), 7)[0])
    return Built(None)  # the working tree, as `reviewbot diff` reviews it by default


def _concatenated(lines_wanted: int) -> list[str]:
    """Standard-library modules one after another, cut at a module boundary after
    ``lines_wanted`` lines (indentation restarts at each module, so it parses)."""
    out: list[str] = []
    for src in _stdlib_files():
        out += _read(src).rstrip("\n").split("\n") + [""]
        if len(out) >= lines_wanted:
            break
    return out


def _hunks_repo(root: Path, hunks: int, per_file: int = 250) -> Built:
    """``hunks`` one-line hunks, every 8th line, ``per_file`` to a file."""
    _init(root)
    body = _concatenated(per_file * 8 + 8)
    text = "\n".join(body[: per_file * 8 + 8]) + "\n"
    nfiles = (hunks + per_file - 1) // per_file
    for k in range(nfiles):
        _write(root / "src" / f"m{k:04d}.py", text)
    a = _commit(root, "A")
    left = hunks
    for k in range(nfiles):
        p = root / "src" / f"m{k:04d}.py"
        edited, done = edit_every(_read(p), 8, min(left, per_file))
        left -= done
        _write(p, edited)
    b = _commit(root, "B")
    return Built(f"{a}..{b}")


def shape_hunks(root: Path, scale: float) -> Built:
    return _hunks_repo(root, max(400, int(10_000 * scale)))


def shape_hunks_quarter(root: Path, scale: float) -> Built:
    return _hunks_repo(root, max(100, int(2_500 * scale)))


def shape_newfile(root: Path, scale: float) -> Built:
    _init(root)
    _write(root / "README", "bench\n")
    a = _commit(root, "A")
    n = max(2_000, int(50_000 * scale))
    _write(root / "big" / "new_module.py", "\n".join(_concatenated(n)[:n]) + "\n")
    b = _commit(root, "B")
    return Built(f"{a}..{b}")


def shape_renames(root: Path, scale: float) -> Built:
    _init(root)
    small = _stdlib_files(1_000, 6_000)
    n = max(200, int(5_000 * scale))
    for k in range(n):
        _write(root / "old" / f"d{k // 500:02d}" / f"f{k:05d}.py", _read(small[k % len(small)]))
    a = _commit(root, "A")
    # git gives up finding inexact renames among more than diff.renameLimit (1,000) files
    # and shows adds and deletes instead; this repository asks it to look further.
    git(root, "config", "diff.renameLimit", str(2 * n))
    git(root, "mv", "old", "new")
    for p in sorted((root / "new").rglob("*.py")):
        _write(p, edit_every(_read(p), 8, 4)[0])
    b = _commit(root, "B")
    return Built(f"{a}..{b}")


def shape_big(root: Path, scale: float) -> Built:
    """About 200,000 changed lines: every other line of 480 files edited."""
    _init(root)
    files = _stdlib_files()[: max(20, int(480 * scale))]
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    targets = []
    for src in files:
        dst = root / "lib" / src.relative_to(stdlib)
        _write(dst, _read(src))
        targets.append(dst)
    a = _commit(root, "A")
    for dst in targets:
        _write(dst, edit_every(_read(dst), 2)[0])
    b = _commit(root, "B")
    return Built(f"{a}..{b}")


SHAPES: dict[str, Callable[[Path, float], Built]] = {
    "sparse": shape_sparse,
    "dense": shape_dense,
    "hunks": shape_hunks,
    "hunks/4": shape_hunks_quarter,
    "newfile": shape_newfile,
    "renames": shape_renames,
}


def cli_env() -> dict[str, str]:
    """As a user runs it: bytecode cached (an environment that sets
    PYTHONDONTWRITEBYTECODE would compile every module on every run, ~0.3 s)."""
    return {k: v for k, v in clean_env().items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_cli(root: Path, built: Built, out: Path) -> dict[str, Any]:
    cmd = [
        *reviewbot_cmd(),
        "diff",
        *([built.rev] if built.rev else []),
        "--format",
        "json",
        "--no-tests",
        "--fail-on",
        "none",
        "--backend",
        "static",
    ]
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, str(out), *cmd],
        cwd=root,
        env=cli_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    stats: dict[str, Any] = json.loads(proc.stdout)
    if stats["code"] != 0:
        sys.exit(f"reviewbot exited {stats['code']}: {proc.stderr}")
    report = json.loads(out.read_text(encoding="utf-8"))
    stats["changed"] = report["coverage"]["lines_total"]
    stats["files"] = report["coverage"]["files_total"]
    stats["findings"] = len(report["findings"])
    stats["timings"] = report["timings"]
    return stats


def profile(root: Path, built: Built, top: int) -> None:
    import cProfile
    import io
    import pstats

    from reviewbot.cli import IO, main

    prof = cProfile.Profile()
    prof.enable()
    main(
        [
            "diff",
            *([built.rev] if built.rev else []),
            "--format",
            "json",
            "--no-tests",
            "--fail-on",
            "none",
            "--backend",
            "static",
        ],
        IO(io.StringIO(), sys.stderr, sys.stdin, clean_env(), root),
    )
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="shapes at a fifth of the size")
    ap.add_argument(
        "--only", action="append", choices=[*SHAPES, "big"], help="run only this shape (repeatable)"
    )
    ap.add_argument("--big", action="store_true", help="also a ~200,000-changed-line PR")
    ap.add_argument("--profile", action="store_true", help="cProfile each shape in-process")
    ap.add_argument("--top", type=int, default=35)
    ap.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="keep each shape's JSON report in this folder (to diff findings)",
    )
    args = ap.parse_args()
    scale = 0.2 if args.quick else 1.0
    names = args.only or [*SHAPES, *(["big"] if args.big else [])]
    makers = {**SHAPES, "big": shape_big}
    rows: dict[str, dict[str, Any]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="reviewbot-shapes-"))
    try:
        warm = tmp / "warm-up"  # imports every stage once, so the bytecode is cached
        warm.mkdir()
        run_cli(warm, shape_newfile(warm, 0.0), tmp / "warm-up.json")
        shutil.rmtree(warm, ignore_errors=True)
        for name in names:
            root = tmp / name.replace("/", "_")
            root.mkdir()
            built = makers[name](root, scale)
            if args.profile:
                print(f"== {name}")
                profile(root, built, args.top)
                continue
            stats = run_cli(root, built, tmp / f"{name.replace('/', '_')}.json")
            rows[name] = stats
            if args.reports is not None:
                args.reports.mkdir(parents=True, exist_ok=True)
                shutil.copy(
                    tmp / f"{name.replace('/', '_')}.json",
                    args.reports / f"{name.replace('/', '_')}.json",
                )
            shutil.rmtree(root, ignore_errors=True)
            rate = stats["changed"] / stats["wall"]
            engine = stats["changed"] / max(stats["timings"]["total"], 1e-9)
            print(
                f"{name:9} {stats['files']:6} files {stats['changed']:8,} changed lines "
                f"{stats['wall']:7.2f} s {rate:9,.0f} lines/s (engine {engine:7,.0f}; "
                f"CPU {stats['cpu']:6.2f} s = {stats['changed'] / stats['cpu']:7,.0f}/s) "
                f"{stats['maxrss_kb'] / 1024:6.0f} MB  {stats['findings']:4} findings  "
                f"stages {json.dumps({k: round(v, 2) for k, v in stats['timings'].items()})}",
                flush=True,
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if args.profile:
        return 0
    ok = True
    for name, s in rows.items():
        rate = s["changed"] / s["wall"]
        mb = s["maxrss_kb"] / 1024
        # hunks/4 is the linearity probe (a quarter of the work, start-up a third of its
        # wall time): the memory target holds for it, the rate is the five shapes' target
        slow = rate < TARGET_LINES_PER_S and name not in _PROBES
        if slow or mb >= TARGET_PEAK_MB:
            print(
                f"MISSED {name}: {rate:,.0f} lines/s (>= {TARGET_LINES_PER_S:,}), "
                f"{mb:.0f} MB (< {TARGET_PEAK_MB})"
            )
            ok = False
    if "hunks" in rows and "hunks/4" in rows:
        full, quarter = rows["hunks"], rows["hunks/4"]
        # Engine time (start-up excluded) grows with the change; compare that and wall.
        ratio = full["timings"]["total"] / max(quarter["timings"]["total"], 1e-9)
        wall_ratio = full["wall"] / quarter["wall"]
        cpu_ratio = full["cpu"] / quarter["cpu"]
        print(
            f"linearity: 4x hunks took {ratio:.2f}x the engine time, {wall_ratio:.2f}x "
            f"the wall time, {cpu_ratio:.2f}x the CPU time (target <= {TARGET_LINEAR}x)"
        )
        ok = ok and ratio <= TARGET_LINEAR
    print(
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; targets: "
        + ("met" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
