"""action.yml and the workflows: valid for GitHub (SchemaStore schemas, offline) and consistent
with what `reviewbot action` reads and writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from reviewbot.commands.action_runner import outputs
from reviewbot.config import ENV_KEYS
from reviewbot.github.flow import PublishOutcome

ROOT = Path(__file__).parent.parent
WORKFLOWS = [
    ROOT / ".github/workflows/ci.yml",
    ROOT / ".github/workflows/reviewbot-example.yml",
    ROOT / "examples/workflows/reviewbot.yml",
]
ACTION_ENV = {
    "REVIEWBOT_GITHUB_TOKEN",
    "REVIEWBOT_CONFIG_PATH",
    "REVIEWBOT_SARIF",
    "REVIEWBOT_MARKER_KEY",
    "REVIEWBOT_BOT_LOGIN",
    "REVIEWBOT_IMPORT",
}


def _check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("check-jsonschema")
    if not exe.exists():
        pytest.fail("check-jsonschema is not installed: pip install -e '.[dev]'")
    return subprocess.run(
        [str(exe), "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_action_yml_is_a_valid_action() -> None:
    proc = _check_jsonschema("vendor.github-actions", ROOT / "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_are_valid(path: Path) -> None:
    proc = _check_jsonschema("vendor.github-workflows", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: pull_request\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps: 3\n")
    assert _check_jsonschema("vendor.github-workflows", bad).returncode != 0


def test_action_inputs_map_to_settings_reviewbot_reads() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "review")
    assert step["run"].strip() == "reviewbot action"
    for name in step["env"]:
        assert name in ENV_KEYS or name in ACTION_ENV, name
    used = {v.split("inputs.")[1].split(" ")[0] for v in step["env"].values() if "inputs." in v}
    assert used | {"python-version"} == set(action["inputs"])


def test_action_outputs_are_written_by_the_command() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    outcome = PublishOutcome(
        head_sha="a" * 40,
        review_id=None,
        comments_posted=0,
        comments_skipped_existing=0,
        comments_moved_to_summary=0,
        comments_deleted_stale=0,
        summary_comment_id=None,
        check_run_id=None,
        findings_total=0,
        findings_by_severity={},
        findings_by_category={},
        failed=False,
    )
    written = set(outputs(outcome, None))
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.review.outputs.{name} }}}}"
        assert name in written


def test_example_workflow_has_the_minimum_permissions() -> None:
    for path in (
        ROOT / "examples/workflows/reviewbot.yml",
        ROOT / ".github/workflows/reviewbot-example.yml",
    ):
        wf = yaml.safe_load(path.read_text())
        assert wf["permissions"] == {
            "contents": "read",
            "pull-requests": "write",
            "checks": "write",
        }
        assert "pull_request_target" not in wf[True]  # yaml reads the `on:` key as True
    text = (ROOT / "examples/workflows/reviewbot.yml").read_text()
    assert "pull_request_target" in text and "do NOT add a checkout of the PR head" in text
