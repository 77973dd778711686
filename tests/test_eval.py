"""`reviewbot eval`: the harness, the metrics and the report, on real git changes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.evaluation.dataset import EvalCase, load_sven, normalise
from reviewbot.evaluation.metrics import Report, score_case
from reviewbot.findings import Category, Finding, Severity, Side
from tests.conftest import FIXTURES, run_cli

SLICE = FIXTURES / "eval" / "sven-slice.jsonl"


def row(
    rid: str, cwe: str, before: str, after: str, vulnerable: list[int], added: list[int]
) -> dict[str, Any]:
    return {
        "id": rid,
        "cwe": cwe,
        "file_name": "pkg/mod.py",
        "func_name": "f",
        "func_src_before": before,
        "func_src_after": after,
        "vulnerable_lines_in_before": vulnerable,
        "line_changes": {
            "deleted": [{"line_no": n} for n in vulnerable],
            "added": [{"line_no": n} for n in added],
        },
        "commit_link": "https://example.invalid/commit",
    }


# A: SQL built with % (hit; the fix binds parameters: no false positive).
# B: an indented method with CRLF line ends; the "fix" still runs a shell (hit and fp).
# C: a path that is the caller's own parameter (not request data, not joined onto a base
#    directory, so no finding: a miss).
TINY = [
    row(
        "A",
        "CWE-089",
        "def get(cur, name):\n    cur.execute(\"SELECT * FROM t WHERE name = '%s'\" % name)\n",
        'def get(cur, name):\n    cur.execute("SELECT * FROM t WHERE name = %s", (name,))\n',
        [2],
        [2],
    ),
    row(
        "B",
        "CWE-078",
        "    def clean(self, name):\r\n        log('cleaning')\r\n"
        "        os.system('rm -rf /tmp/' + name)\r\n",
        "    def clean(self, name):\r\n        log('cleaning')\r\n"
        "        subprocess.call('rm -rf /tmp/%s' % name, shell=True)\r\n",
        [3],
        [3],
    ),
    row(
        "C",
        "CWE-022",
        "def read(path):\n    return open(path).read()\n",
        "def read(path):\n    return open(safe_join(BASE, path)).read()\n",
        [2],
        [2],
    ),
]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def eval_json(
    cwd: Path, dataset: Path, *extra: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    res = run_cli(["eval", str(dataset), "--format", "json", *extra], cwd, env=env)
    assert res.code == 0, res.err
    data: dict[str, Any] = json.loads(res.out)
    return data


def test_metrics_on_a_dataset_with_a_known_answer(tmp_path: Path) -> None:
    data = eval_json(tmp_path, write_jsonl(tmp_path / "tiny.jsonl", TINY), "--backend", "static")
    assert data["overall"] == {
        "cases": 3,
        "hits": 2,
        "false_positives": 1,
        "recall": 0.6667,
        "fp_rate": 0.3333,
        "precision": 0.6667,
    }
    assert data["by_label"]["CWE-089"] == {
        "cases": 1,
        "hits": 1,
        "false_positives": 0,
        "recall": 1.0,
        "fp_rate": 0.0,
        "precision": 1.0,
    }
    assert data["by_label"]["CWE-078"]["precision"] == 0.5
    assert data["by_label"]["CWE-022"]["precision"] is None
    cases = {c["id"]: c for c in data["cases"]}
    assert cases["A"]["hit_by"] == ["py.sql-injection"] and not cases["A"]["false_positive"]
    assert cases["B"]["hit_by"] == ["py.shell-injection"]
    assert cases["B"]["flagged_fix_by"] == ["py.shell-injection"]
    assert not cases["C"]["hit"] and cases["C"]["errors"] == []
    assert data["by_source"]["py.shell-injection"] == {"hits": 1, "false_positives": 1}
    # ruff's F821 on names the extracted functions use without importing (os, log,
    # subprocess, safe_join) are bug findings; they never count as hits
    assert data["by_category"] == {
        "security": {"introduce": 2, "fix": 1},
        "bug": {"introduce": 1, "fix": 2},
    }
    assert data["backend"] == "static" and data["model"] is None


def test_table_report_and_limit(tmp_path: Path) -> None:
    dataset = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    res = run_cli(["eval", str(dataset), "--backend", "static"], tmp_path)
    assert res.code == 0, res.err
    lines = res.out.splitlines()
    overall = next(ln for ln in lines if ln.startswith("overall"))
    assert overall.split() == ["overall", "3", "2", "66.7%", "1", "33.3%", "66.7%"]
    assert any(ln.split()[:3] == ["CWE-022", "1", "0"] for ln in lines)
    limited = eval_json(tmp_path, dataset, "--backend", "static", "--limit", "1")
    assert limited["overall"]["cases"] == 1


def test_thresholds_and_output_file(tmp_path: Path) -> None:
    dataset = write_jsonl(tmp_path / "tiny.jsonl", TINY)
    out = tmp_path / "report.json"
    res = run_cli(
        [
            "eval",
            str(dataset),
            "--backend",
            "static",
            "--format",
            "json",
            "--output",
            str(out),
            "--min-recall",
            "0.9",
        ],
        tmp_path,
    )
    assert res.code == 1 and res.out == ""
    assert json.loads(out.read_text())["overall"]["recall"] == 0.6667
    ok = run_cli(
        [
            "eval",
            str(dataset),
            "--backend",
            "static",
            "--min-recall",
            "0.6",
            "--max-fp-rate",
            "0.4",
        ],
        tmp_path,
    )
    assert ok.code == 0, ok.err


def test_real_rows_from_sven(tmp_path: Path) -> None:
    data = eval_json(tmp_path, SLICE, "--backend", "static")
    overall, labels, cases = data["overall"], data["by_label"], data["cases"]
    assert overall["cases"] == 13 == len(cases)
    assert overall["hits"] == sum(c["hit"] for c in cases)
    assert overall["false_positives"] == sum(c["false_positive"] for c in cases)
    assert sum(t["cases"] for t in labels.values()) == 13
    assert sum(t["hits"] for t in labels.values()) == overall["hits"]
    assert overall["recall"] == round(overall["hits"] / 13, 4)
    by_id = {c["id"]: c for c in cases}
    # SQL by %-formatting in the vulnerable version, parameters in the fix
    assert by_id["sven-train-cwe-089-23"]["hit_by"] == ["py.sql-injection"]
    assert not by_id["sven-train-cwe-089-23"]["false_positive"]
    # request data reaching a file through an assignment the change touched
    assert by_id["sven-train-cwe-022-18"]["hit_by"] == ["py.path-traversal"]
    # the "vulnerable" version is already parameterised: nothing to find
    assert not by_id["sven-train-cwe-089-121"]["hit"]
    # this commit's "fix" replaces os.remove with os.system on the same name
    assert by_id["sven-train-cwe-078-8"]["flagged_fix_by"] == ["py.shell-injection"]
    assert all(c["errors"] == [] for c in cases)


def test_score_case_counts_only_security_findings_on_labelled_lines() -> None:
    case = EvalCase("x", "CWE-089", "a/b.py", "v\n", "f\n", frozenset({3, 4}), frozenset({7}))

    def f(
        line: int,
        end: int,
        category: Category = Category.SECURITY,
        path: str = "a/b.py",
        source: str = "py.sql-injection",
    ) -> Finding:
        return Finding(
            path, line, end, Side.RIGHT, category, Severity.ERROR, "t", "m", source, "fp"
        )

    hit = score_case(case, [f(1, 3), f(4, 4, Category.BUG, source="py.bug")], [f(6, 6)])
    assert hit.hit_by == ("py.sql-injection",) and not hit.false_positive
    miss = score_case(
        case,
        [f(5, 9), f(3, 3, path="other.py"), f(3, 3, Category.STYLE)],
        [f(5, 8, source="model:m")],
    )
    assert not miss.hit and miss.flagged_fix_by == ("model:m",)
    report = Report.of([hit, miss])
    assert report.overall.recall == 0.5 and report.overall.precision == 0.5
    assert report.by_source == {"model:m": (0, 1), "py.sql-injection": (1, 0)}


def test_normalise_keeps_line_numbers() -> None:
    src = "    def f(self):\r\n        x = '''\r\nkept\r\n'''\r\n\r\n        return x"
    out = normalise(src)
    assert out == "def f(self):\n    x = '''\nkept\n'''\n\n    return x\n"
    assert len(out.splitlines()) == len(src.splitlines())


def test_dataset_errors_say_what_is_wrong(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    res = run_cli(["eval", str(bad)], tmp_path)
    assert res.code == 2 and "row 1 lacks func_src_before" in res.err
    bad.write_text("not json\n", encoding="utf-8")
    assert "line 1 is not JSON" in run_cli(["eval", str(bad)], tmp_path).err
    missing = run_cli(["eval", str(tmp_path / "none.jsonl")], tmp_path)
    assert missing.code == 2 and "cannot read dataset" in missing.err
    with pytest.raises(Exception, match="holds no rows"):
        load_sven(write_jsonl(tmp_path / "empty.jsonl", []))
