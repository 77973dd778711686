"""reviewbot, bandit, ruff and semgrep side by side on a labelled SVEN corpus.

The protocol is ``reviewbot eval``'s (``reviewbot/evaluation/``), reused, not copied: the rows
are read and normalised by :func:`~reviewbot.evaluation.dataset.load_sven` (dedented, LF, the
line count kept), every tool's results become :class:`~reviewbot.findings.Finding` records
scored by :func:`~reviewbot.evaluation.metrics.score_case` and summed by
:class:`~reviewbot.evaluation.metrics.Report`. A security result on a labelled vulnerable line
of the vulnerable function is a **hit**; one on a line the fix added, in the fixed function,
is a **fix-line finding** (a false positive).

- reviewbot: :func:`~reviewbot.evaluation.runner.run_eval` with the static backend and the
  default config (no repository config, no ``REVIEWBOT_*`` variables), i.e. exactly
  ``reviewbot eval DATASET --backend static``; its security-category findings count.
- bandit: every result counts (all bandit tests are security tests), any severity or
  confidence.
- ruff: ``ruff check --isolated --select S`` (flake8-bandit), every result.
- semgrep: ``semgrep --config PATH --json --metrics off``; only rules whose
  ``metadata.category`` is ``security`` count. The registry rules need the network, so
  semgrep runs only when it is installed and ``--semgrep-config`` names local rules (a
  checkout of semgrep/semgrep-rules' ``python/`` folder, say); otherwise one line on stderr
  says it was skipped.

The external tools see each version as a plain file: every row's vulnerable and fixed
function is written under a temporary directory (``vulnerable/<case path>``,
``fixed/<case path>``) and each tool runs once over the whole file list (one process per tool,
not per file, so the wall time is the tool's and not its start-up's). reviewbot reviews the
same two versions as commits (fixed -> vulnerable, vulnerable -> fixed), as ``reviewbot eval``
does. Files a tool could not parse (much of SVEN is Python 2) are counted per tool.

The tools are not reviewbot dependencies; install them into the venv for the benchmark:

    .venv/bin/pip install bandit semgrep          # ruff comes with reviewbot's dev set-up
    .venv/bin/python benchmarks/side_by_side.py ../shared/data/eval/sven-dev.jsonl
    .venv/bin/python benchmarks/side_by_side.py DATASET --tools reviewbot,ruff --format json
    .venv/bin/python benchmarks/side_by_side.py DATASET --semgrep-config /tmp/semgrep-python
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.evaluation.dataset import DatasetError, EvalCase, load_sven  # noqa: E402
from reviewbot.evaluation.metrics import Report, Tally, score_case  # noqa: E402
from reviewbot.findings import Category, Finding, Severity, Side  # noqa: E402

TOOLS = ("reviewbot", "bandit", "ruff", "semgrep")
VERSIONS = ("vulnerable", "fixed")


class ToolMissing(Exception):
    """The tool cannot run here (not installed, no local config)."""


@dataclass(frozen=True, slots=True)
class Result:
    """One security result of an external tool, in the file it was run on."""

    file: Path
    line: int
    end_line: int
    rule: str


@dataclass(frozen=True, slots=True)
class Scan:
    results: tuple[Result, ...]
    unparsed: frozenset[Path]
    """Files the tool reported it could not parse."""
    version: str


@dataclass(frozen=True, slots=True)
class ToolRun:
    tool: str
    version: str
    report: Report
    seconds: float
    unparsed: int
    """Files (of 2 x rows) the tool could not parse; 0 for reviewbot (tree-sitter)."""


def _run(argv: Sequence[str], ok: Sequence[int]) -> dict[str, Any]:
    proc = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if proc.returncode not in ok:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    data = json.loads(proc.stdout)
    if not isinstance(data, dict):
        raise RuntimeError(f"{argv[0]} did not answer a JSON object")
    return data


def _exe(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise ToolMissing(f"{name} is not installed (pip install {name})")
    return found


def _version(exe: str) -> str:
    proc = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    first = (proc.stdout or proc.stderr).strip().splitlines()
    return first[0].split()[-1] if first else "?"


def scan_bandit(files: Sequence[Path], _config: Path | None) -> Scan:
    exe = _exe("bandit")
    data = _run([exe, "-f", "json", "-q", *map(str, files)], ok=(0, 1))
    results = tuple(
        Result(
            Path(r["filename"]),
            int(r["line_number"]),
            max([int(n) for n in r.get("line_range") or []] or [int(r["line_number"])]),
            f"bandit.{r['test_id']}",
        )
        for r in data.get("results", [])
    )
    unparsed = frozenset(Path(e["filename"]) for e in data.get("errors", []))
    return Scan(results, unparsed, _version(exe))


def scan_ruff(files: Sequence[Path], _config: Path | None) -> Scan:
    exe = _exe("ruff")
    proc = subprocess.run(
        [
            exe,
            "check",
            "--isolated",
            "--no-cache",
            "--select",
            "S",
            "--output-format",
            "json",
            "--exit-zero",
            *map(str, files),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"ruff exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    results: list[Result] = []
    unparsed: set[Path] = set()
    for d in json.loads(proc.stdout):
        code = d.get("code")
        if not code or code == "invalid-syntax":
            unparsed.add(Path(d["filename"]))
            continue
        if code.startswith("S"):
            results.append(
                Result(
                    Path(d["filename"]),
                    int(d["location"]["row"]),
                    int(d["end_location"]["row"]),
                    f"ruff.{code}",
                )
            )
    return Scan(tuple(results), frozenset(unparsed), _version(exe))


def scan_semgrep(files: Sequence[Path], config: Path | None) -> Scan:
    exe = _exe("semgrep")
    if config is None:
        raise ToolMissing(
            "semgrep needs local rules (--semgrep-config PATH); the registry rules need the network"
        )
    data = _run(
        [
            exe,
            "scan",
            "--config",
            str(config),
            "--json",
            "--metrics",
            "off",
            "--quiet",
            "--disable-version-check",
            "--no-git-ignore",
            "--timeout",
            "30",
            *map(str, files),
        ],
        ok=(0, 1),
    )
    results = tuple(
        Result(
            Path(r["path"]),
            int(r["start"]["line"]),
            int(r["end"]["line"]),
            f"semgrep.{str(r['check_id']).rsplit('.', 1)[-1]}",
        )
        for r in data.get("results", [])
        if (r.get("extra", {}).get("metadata", {}) or {}).get("category") == "security"
    )
    unparsed = frozenset(
        Path(e["path"])
        for e in data.get("errors", [])
        if e.get("path") and "Syntax" in str(e.get("type", ""))
    )
    return Scan(results, unparsed, _version(exe))


Scanner = Callable[[Sequence[Path], "Path | None"], Scan]
SCANNERS: Mapping[str, Scanner] = {
    "bandit": scan_bandit,
    "ruff": scan_ruff,
    "semgrep": scan_semgrep,
}


def _finding(case: EvalCase, r: Result) -> Finding:
    return Finding(
        path=case.path,
        line=r.line,
        end_line=max(r.line, r.end_line),
        side=Side.RIGHT,
        category=Category.SECURITY,
        severity=Severity.WARNING,
        title=r.rule,
        message=r.rule,
        source=r.rule,
        fingerprint=r.rule,
    )


def run_external(
    tool: str, cases: Sequence[EvalCase], config: Path | None = None, workdir: Path | None = None
) -> ToolRun:
    """Write both versions of every case to files, run ``tool`` once over them, score."""
    scanner = SCANNERS[tool]
    with tempfile.TemporaryDirectory(prefix="reviewbot-bench-", dir=workdir) as tmp:
        base = Path(tmp).resolve()
        where: dict[Path, tuple[str, int]] = {}
        for i, case in enumerate(cases):
            for version, text in zip(VERSIONS, (case.vulnerable, case.fixed), strict=True):
                f = base / version / case.path
                f.parent.mkdir(parents=True, exist_ok=True)
                f.write_bytes(text.encode("utf-8", "surrogateescape"))
                where[f] = (version, i)
        start = time.perf_counter()
        scan = scanner(list(where), config)
        seconds = time.perf_counter() - start

        def locate(p: Path) -> tuple[str, int] | None:
            return where.get(p if p.is_absolute() else (Path.cwd() / p)) or where.get(p.resolve())

        found: dict[tuple[str, int], list[Finding]] = {}
        for r in scan.results:
            at = locate(r.file)
            if at is not None:
                found.setdefault(at, []).append(_finding(cases[at[1]], r))
        unparsed = sum(locate(p) is not None for p in scan.unparsed)
    outcomes = [
        score_case(c, found.get(("vulnerable", i), []), found.get(("fixed", i), []))
        for i, c in enumerate(cases)
    ]
    return ToolRun(tool, scan.version, Report.of(outcomes), seconds, unparsed)


def run_reviewbot(cases: Sequence[EvalCase]) -> ToolRun:
    """``reviewbot eval --backend static`` on ``cases``, through the same code."""
    from reviewbot import __version__
    from reviewbot.backends import create_backend
    from reviewbot.commands.common import load_cli_config
    from reviewbot.commands.options import ConfigFlags
    from reviewbot.evaluation.runner import run_eval

    config = load_cli_config(ConfigFlags(backend="static"), None, {})
    backend = create_backend(config)
    try:
        run = run_eval(cases, config, backend)
    finally:
        backend.close()
    return ToolRun("reviewbot", f"{__version__} (static)", run.report, run.seconds, 0)


def run_tools(
    cases: Sequence[EvalCase], tools: Sequence[str], semgrep_config: Path | None, log: TextIO
) -> list[ToolRun]:
    out: list[ToolRun] = []
    for tool in tools:
        log.write(f"side_by_side: {tool} on {len(cases)} rows ...\n")
        log.flush()
        try:
            run = (
                run_reviewbot(cases)
                if tool == "reviewbot"
                else run_external(tool, cases, semgrep_config)
            )
        except ToolMissing as exc:
            log.write(f"side_by_side: {tool} skipped: {exc}\n")
            continue
        except (RuntimeError, ValueError, KeyError, OSError) as exc:
            log.write(f"side_by_side: {tool} failed, left out: {exc}\n")
            continue
        log.write(
            f"side_by_side: {tool} {run.version}: {run.report.overall.hits} hits, "
            f"{run.report.overall.false_positives} fix-line findings, "
            f"{run.seconds:.1f}s\n"
        )
        out.append(run)
    return out


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:<10} {t.cases:>5} {t.hits:>5} {_pct(t.recall):>7} {t.false_positives:>9} "
        f"{_pct(t.fp_rate):>8} {_pct(t.precision):>9}"
    )


def render_table(runs: Sequence[ToolRun], dataset: str) -> str:
    lines = [f"side by side on {dataset}", ""]
    for run in runs:
        r = run.report
        note = f", {run.unparsed} of {2 * r.overall.cases} files unparsed" if run.unparsed else ""
        lines += [
            f"{run.tool} {run.version}: {run.seconds:.1f}s{note}",
            f"{'label':<10} {'rows':>5} {'hits':>5} {'recall':>7} {'fix-line':>9} "
            f"{'fp rate':>8} {'precision':>9}",
        ]
        lines += [_row(label, t) for label, t in r.by_label.items()]
        lines += [_row("overall", r.overall), ""]
    lines += [
        f"{'tool':<24} {'hits':>5} {'recall':>7} {'fix-line':>9} {'fp rate':>8} {'seconds':>8}"
    ]
    lines += [
        f"{run.tool + ' ' + run.version:<24} {run.report.overall.hits:>5} "
        f"{_pct(run.report.overall.recall):>7} {run.report.overall.false_positives:>9} "
        f"{_pct(run.report.overall.fp_rate):>8} {run.seconds:>8.1f}"
        for run in runs
    ]
    lines += [
        "",
        "hit: a security result on a labelled vulnerable line of the vulnerable function;",
        "fix-line: a security result on a line the fix added, in the fixed function.",
    ]
    return "\n".join(lines) + "\n"


def report_dict(runs: Sequence[ToolRun], dataset: str) -> dict[str, Any]:
    return {
        "dataset": dataset,
        "tools": {
            run.tool: {
                "version": run.version,
                "seconds": round(run.seconds, 2),
                "unparsed_files": run.unparsed,
                "overall": run.report.overall.as_dict(),
                "by_label": {k: t.as_dict() for k, t in run.report.by_label.items()},
                "by_source": {
                    k: {"hits": h, "false_positives": f}
                    for k, (h, f) in run.report.by_source.items()
                },
            }
            for run in runs
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("dataset", type=Path, help="SVEN-style .jsonl file")
    p.add_argument(
        "--tools",
        default=",".join(TOOLS),
        help=f"comma-separated, from {', '.join(TOOLS)} (default: all)",
    )
    p.add_argument(
        "--semgrep-config",
        type=Path,
        metavar="PATH",
        help="local semgrep rules (file or folder); without it semgrep is skipped",
    )
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.add_argument("--format", choices=["table", "json"], default="table")
    args = p.parse_args(argv)
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        p.error(f"unknown tools: {', '.join(unknown)} (choose from {', '.join(TOOLS)})")
    if args.limit is not None and args.limit < 1:
        p.error("--limit must be at least 1")
    try:
        cases = load_sven(args.dataset, args.limit)
    except DatasetError as exc:
        sys.stderr.write(f"side_by_side: {exc}\n")
        return 2
    runs = run_tools(cases, tools, args.semgrep_config, sys.stderr)
    text = (
        json.dumps(report_dict(runs, str(args.dataset)), indent=2) + "\n"
        if args.format == "json"
        else render_table(runs, str(args.dataset))
    )
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
