"""How long `reviewbot hook` takes on a typical commit, interpreter start-up included.

Builds a throw-away git repository (a small Python/JavaScript project), stages a typical
commit (4 files, about 180 changed lines, one known static finding), then runs
`reviewbot hook FILES...` as a subprocess the way pre-commit does, repeatedly
(hyperfine-style: warm-up runs, then timed runs), with the static backend (no REVIEWBOT_*
variables). Reports min / median / p90 / max wall time and exits 1 when the median is over
--budget seconds (the target is under one second).

    .venv/bin/python benchmarks/hook_speed.py                 # 30 runs
    .venv/bin/python benchmarks/hook_speed.py --pre-commit    # also through `pre-commit run`
    .venv/bin/python benchmarks/hook_speed.py --importtime    # slowest imports of one run
    .venv/bin/python benchmarks/hook_speed.py --llm-down      # also with the LLM server down
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GIT_ID = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GIT_", "REVIEWBOT_", "PRE_COMMIT"))
    }
    return {**env, **GIT_ID, "NO_COLOR": "1", **extra}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=clean_env(), check=True, capture_output=True)


def py_module(i: int, functions: int = 12) -> str:
    out = [f'"""Module {i}."""', "", "from __future__ import annotations", "", "import os", ""]
    for f in range(functions):
        out += [
            "",
            f"def handler_{i}_{f}(items: list[int], scale: int = {f + 1}) -> int:",
            f'    """Sum items scaled by {f + 1}."""',
            "    total = 0",
            "    for item in items:",
            "        if item > scale:",
            "            total += item * scale",
            "        else:",
            "            total -= item",
            "    return total",
        ]
    return "\n".join(out) + "\n"


def js_module(i: int, functions: int = 10) -> str:
    out = [f"// module {i}", ""]
    for f in range(functions):
        out += [
            f"export function render{i}_{f}(items, scale = {f + 1}) {{",
            "  let total = 0;",
            "  for (const item of items) {",
            "    total += item > scale ? item * scale : -item;",
            "  }",
            "  return total;",
            "}",
            "",
        ]
    return "\n".join(out)


def build_repo(root: Path) -> list[str]:
    """A committed project plus a staged typical commit; returns the staged file names."""
    git(root, "init", "-q", "-b", "main")
    for i in range(30):
        (root / "pkg").mkdir(exist_ok=True)
        (root / "pkg" / f"mod{i}.py").write_text(py_module(i))
    for i in range(10):
        (root / "web").mkdir(exist_ok=True)
        (root / "web" / f"view{i}.js").write_text(js_module(i))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "project")
    # The commit: two edited Python modules, one edited JS module, one new Python module.
    for name in ("pkg/mod3.py", "pkg/mod7.py"):
        p = root / name
        lines = p.read_text().splitlines()
        for k in range(10, len(lines), 9):
            lines[k] = lines[k].replace("total = 0", "total = int(os.environ.get('BASE', '0'))")
        p.write_text(
            "\n".join(lines + ["", "", "def added(x: int) -> int:", "    return x * 2", ""])
        )
    view = root / "web" / "view2.js"
    view.write_text(view.read_text() + "\n" + js_module(99, 6))
    new = root / "pkg" / "loader.py"
    new.write_text(
        py_module(100, 10) + "\n\ndef load(user_input: str) -> object:\n"
        "    return eval(user_input)\n"
    )
    files = ["pkg/mod3.py", "pkg/mod7.py", "web/view2.js", "pkg/loader.py"]
    git(root, "add", *files)
    return files


def changed_lines(root: Path) -> int:
    out = subprocess.run(
        ["git", "diff", "--cached", "--numstat"],
        cwd=root,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sum(int(a) + int(d) for a, d, _ in (ln.split("\t") for ln in out.splitlines()))


def measure(
    cmd: list[str], root: Path, env: dict[str, str], runs: int, warmup: int, expect: int
) -> list[float]:
    times: list[float] = []
    for i in range(warmup + runs):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode != expect:
            sys.exit(
                f"{shlex.join(cmd)} exited {proc.returncode}, expected {expect}:\n"
                f"{proc.stdout.decode()}{proc.stderr.decode()}"
            )
        if i >= warmup:
            times.append(elapsed)
    return times


def stats(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, max(0, round(0.9 * len(ordered)) - 1))]
    return {
        "runs": len(times),
        "min": ordered[0],
        "median": statistics.median(ordered),
        "p90": p90,
        "max": ordered[-1],
        "mean": statistics.fmean(ordered),
    }


def show(label: str, s: dict[str, float]) -> None:
    print(
        f"{label:<34} n={int(s['runs']):>3}  min {s['min']:.3f}s  median {s['median']:.3f}s"
        f"  p90 {s['p90']:.3f}s  max {s['max']:.3f}s"
    )


def importtime(reviewbot: Path, root: Path, files: list[str], top: int = 12) -> None:
    cmd = [
        sys.executable,
        "-X",
        "importtime",
        "-c",
        "import sys; from reviewbot.cli import main; sys.exit(main())",
        "hook",
        *files,
    ]
    err = subprocess.run(cmd, cwd=root, env=clean_env(), capture_output=True, text=True).stderr
    rows: list[tuple[int, str]] = []
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = line.removeprefix("import time:").split("|")
            if cum.strip().isdigit():
                rows.append((int(cum), name.rstrip()))
    print(f"\nslowest imports (cumulative, us) of one `reviewbot hook` run via {reviewbot.name}:")
    for us, module in sorted(rows, reverse=True)[:top]:
        print(f"  {us:>8}  {module}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--budget", type=float, default=1.0, help="seconds allowed for the median")
    ap.add_argument("--reviewbot", type=Path, default=Path(sys.executable).with_name("reviewbot"))
    ap.add_argument(
        "--pre-commit",
        action="store_true",
        help="also time `pre-commit run --files` with a repo: local hook",
    )
    ap.add_argument("--importtime", action="store_true")
    ap.add_argument(
        "--llm-down",
        action="store_true",
        help="also time the hook with REVIEWBOT_LLM_URL at a closed local port",
    )
    ap.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="reviewbot-hook-bench-") as tmp:
        root = Path(tmp) / "repo"
        root.mkdir()
        files = build_repo(root)
        lines = changed_lines(root)
        env = clean_env()
        results: dict[str, object] = {
            "files": len(files),
            "changed_lines": lines,
            "python": sys.version.split()[0],
        }
        hook = stats(
            measure(
                [str(args.reviewbot), "hook", *files], root, env, args.runs, args.warmup, expect=1
            )
        )
        version = stats(
            measure([str(args.reviewbot), "--version"], root, env, args.runs, args.warmup, expect=0)
        )
        results["reviewbot hook"] = hook
        results["reviewbot --version"] = version
        if args.llm_down:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            down = clean_env(REVIEWBOT_LLM_URL=f"http://127.0.0.1:{port}/v1", REVIEWBOT_MODEL="m")
            results["reviewbot hook, LLM port closed"] = stats(
                measure(
                    [str(args.reviewbot), "hook", *files],
                    root,
                    down,
                    args.runs,
                    args.warmup,
                    expect=1,
                )
            )
        if args.pre_commit:
            cfg = {
                "repos": [
                    {
                        "repo": "local",
                        "hooks": [
                            {
                                "id": "reviewbot",
                                "name": "reviewbot",
                                "language": "system",
                                "entry": f"{shlex.quote(str(args.reviewbot))} hook",
                                "types": ["text"],
                                "require_serial": True,
                                "stages": ["pre-commit"],
                            }
                        ],
                    }
                ]
            }
            (root / ".pre-commit-config.yaml").write_text(json.dumps(cfg))
            cmd = [sys.executable, "-m", "pre_commit", "run", "--files", *files]
            pc_env = clean_env(PRE_COMMIT_HOME=str(Path(tmp) / "pc-home"))
            results["pre-commit run --files"] = stats(
                measure(cmd, root, pc_env, args.runs, args.warmup, expect=1)
            )
        if args.json:
            print(json.dumps(results, indent=2))
        else:
            print(
                f"typical commit: {len(files)} files, {lines} changed lines, static checks "
                f"only, Python {results['python']}"
            )
            for label in (
                "reviewbot hook",
                "reviewbot --version",
                "pre-commit run --files",
                "reviewbot hook, LLM port closed",
            ):
                if label in results:
                    show(label, results[label])  # type: ignore[arg-type]
        if args.importtime:
            importtime(args.reviewbot, root, files)
    if hook["median"] > args.budget:
        print(
            f"FAIL: median {hook['median']:.3f}s is over the {args.budget:.2f}s budget",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
