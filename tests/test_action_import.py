"""The Action's ``import`` input: real ruff SARIF, written by an earlier workflow step into the
workspace, reviewed with the built-in findings and posted through the same plan."""

from __future__ import annotations

import json
from pathlib import Path

from tests import linter_tools
from tests.test_action import Runner, fake, payload, runner

__all__ = ["fake", "runner"]  # fixtures used by name


def test_action_import_input_posts_ruff_findings_on_added_lines(runner: Runner) -> None:
    sarif = linter_tools.output(
        linter_tools.ruff() + ["--select", "F,S", "--output-format", "sarif", "shop/orders.py"],
        runner.repo.root,
    )
    (runner.repo.root / "lint").mkdir()
    (runner.repo.root / "lint" / "ruff.sarif").write_bytes(sarif)
    proc, outputs, summary = runner.run(
        payload("opened"), extra={"REVIEWBOT_IMPORT": "lint/ruff.sarif\n"}
    )
    assert proc.returncode == 1, proc.stderr
    comments = runner.state()[0]
    ruff_lines = {c["line"] for c in comments if "ruff " in c["body"]}
    assert ruff_lines, [c["body"][:80] for c in comments]
    assert "linter results from lint/ruff.sarif (sarif)" in summary
    report = json.loads((runner.repo.root / "reviewbot.sarif").read_text())
    results = report["runs"][0]["results"]
    assert any(r["ruleId"].startswith("ruff.") for r in results)
    # one comment per final finding: built-in findings (ruff's own run included) plus the
    # imported ones that are not the same issue again
    assert len(comments) == len(results) >= len(runner.expected()) + 1
    assert {f.line for f in runner.expected()} <= {c["line"] for c in comments}
    # imported findings keep their fingerprints: a re-run posts nothing again
    proc2, outputs2, _ = runner.run(
        payload("reopened"), extra={"REVIEWBOT_IMPORT": "lint/ruff.sarif\n"}
    )
    assert proc2.returncode == 1, proc2.stderr
    assert outputs2["comments-posted"] == "0" and len(runner.state()[0]) == len(comments)


def test_action_import_of_a_missing_file_is_a_usage_error(runner: Runner) -> None:
    proc, _, _ = runner.run(payload("opened"), extra={"REVIEWBOT_IMPORT": "nope.sarif"})
    assert proc.returncode == 2
    assert "cannot read import file nope.sarif" in proc.stderr
    assert runner.state() == ([], [], [], [])


def test_workspace_paths_in_the_import_are_relative_to_it(runner: Runner, tmp_path: Path) -> None:
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "custom"}},
                "results": [
                    {
                        "ruleId": "X1",
                        "level": "error",
                        "message": {"text": "custom says no"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {
                                        "uri": (runner.repo.root / "shop/orders.py").as_uri()
                                    },
                                    "region": {"startLine": 17},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    (tmp_path / "c.sarif").write_text(json.dumps(doc))
    proc, _, _ = runner.run(
        payload("opened"), extra={"REVIEWBOT_IMPORT": str(tmp_path / "c.sarif")}
    )
    assert proc.returncode == 1, proc.stderr
    assert any("custom says no" in c["body"] and c["line"] == 17 for c in runner.state()[0])
