"""The evaluation report as a text table or JSON."""

from __future__ import annotations

import json
from typing import Any

from reviewbot.evaluation.metrics import Report, Tally
from reviewbot.evaluation.runner import EvalRun


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:5.1f}%"


def _row(name: str, t: Tally) -> str:
    return (
        f"{name:<22} {t.cases:>6} {t.hits:>6} {_pct(t.recall):>8} {t.false_positives:>6} "
        f"{_pct(t.fp_rate):>8} {_pct(t.precision):>9}"
    )


def render_table(run: EvalRun, dataset: str) -> str:
    r = run.report
    model = f", model {run.model}" if run.model else ""
    lines = [
        f"reviewbot eval: {dataset} ({r.overall.cases} cases, {2 * r.overall.cases} changes), "
        f"backend {run.backend}{model}, {run.seconds:.1f}s",
        "",
        f"{'label':<22} {'cases':>6} {'hits':>6} {'recall':>8} {'fp':>6} {'fp rate':>8} "
        f"{'precision':>9}",
    ]
    lines += [_row(label, t) for label, t in r.by_label.items()]
    lines.append(_row("overall", r.overall))
    if r.by_source:
        lines += ["", f"{'finding source':<32} {'hits':>6} {'fp':>6}"]
        lines += [f"{s:<32} {h:>6} {f:>6}" for s, (h, f) in r.by_source.items()]
    if r.by_category:
        lines += [
            "",
            f"{'findings by category':<32} {'introducing changes':>20} {'fixing changes':>15}",
        ]
        lines += [f"{c:<32} {i:>20} {f:>15}" for c, (i, f) in r.by_category.items()]
    lines += [
        "",
        "hit: a security finding on a labelled vulnerable line of the change that introduces it;",
        "fp: a security finding on a line the fix added, in the change that fixes it;",
        "precision = hits / (hits + fp).",
    ]
    if run.model_errors:
        lines.append(
            f"note: {run.model_errors} reviews fell back to static checks because "
            "the model failed (see --format json for the messages)"
        )
    return "\n".join(lines) + "\n"


def report_dict(run: EvalRun, dataset: str) -> dict[str, Any]:
    r: Report = run.report
    return {
        "dataset": dataset,
        "backend": run.backend,
        "model": run.model,
        "seconds": round(run.seconds, 2),
        "model_errors": run.model_errors,
        "definitions": {
            "hit": "security finding touching a vulnerable line in the fixed->vulnerable change",
            "false_positive": "security finding touching a fix line in the vulnerable->fixed "
            "change",
            "recall": "hits / cases",
            "fp_rate": "false_positives / cases",
            "precision": "hits / (hits + false_positives)",
        },
        "overall": r.overall.as_dict(),
        "by_label": {k: t.as_dict() for k, t in r.by_label.items()},
        "by_source": {k: {"hits": h, "false_positives": f} for k, (h, f) in r.by_source.items()},
        "by_category": {k: {"introduce": i, "fix": f} for k, (i, f) in r.by_category.items()},
        "cases": [
            {
                "id": o.case.id,
                "label": o.case.label,
                "path": o.case.path,
                "hit": o.hit,
                "false_positive": o.false_positive,
                "hit_by": list(o.hit_by),
                "flagged_fix_by": list(o.flagged_fix_by),
                "security_findings": {"introduce": o.findings_introduce, "fix": o.findings_fix},
                "errors": list(o.errors),
            }
            for o in r.outcomes
        ],
    }


def render_json(run: EvalRun, dataset: str) -> str:
    return json.dumps(report_dict(run, dataset), indent=2) + "\n"
