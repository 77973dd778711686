"""Reporters: JSON (documented schema), SARIF (official 2.1.0 schema), markdown, text; and
the exit code chosen by --fail-on."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reviewbot.backends.static import StaticBackend
from reviewbot.cli import main
from reviewbot.commands.common import exit_code
from reviewbot.config import Config, FailOn
from reviewbot.engine import run_review
from reviewbot.findings import Category, Finding, Severity, Side, fingerprint
from reviewbot.io import IO
from reviewbot.reporters import FORMATS
from reviewbot.reporters.json_report import JSON_VERSION, result_to_json
from reviewbot.reporters.markdown import code_span, render_markdown
from reviewbot.reporters.sarif import result_to_sarif
from reviewbot.reporters.text import render_text
from reviewbot.result import CheckLevel, ReviewResult, TestSuggestion
from reviewbot.sources import git_source
from tests.conftest import FIXTURES, GitRepo, run_cli
from tests.docs_support import doc_page

SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
WEIRD = "dir with space/tëst `tick`.py"


def _model_finding(
    path: str,
    line: int,
    end: int,
    side: Side,
    severity: Severity,
    title: str,
    message: str,
    suggestion: str | None = None,
) -> Finding:
    return Finding(
        path=path,
        line=line,
        end_line=end,
        side=side,
        category=Category.BUG,
        severity=severity,
        title=title,
        message=message,
        source="model:tiny",
        fingerprint=fingerprint(path, "code", Category.BUG, title),
        confidence=0.6,
        suggestion=suggestion,
    )


@pytest.fixture
def result(git_repo: GitRepo) -> ReviewResult:
    git_repo.write("app.py", "def f(x):\n    return x\n")
    git_repo.write(WEIRD, "a = 1\nb = 2\nc = 3\n")
    git_repo.write("gone.py", "x = 1\n")
    git_repo.commit()
    git_repo.write("app.py", "def f(x, seen=[]):\n    return eval(x)\n")
    git_repo.write(WEIRD, "a = 1\nb = 20\nc = 30\n")
    git_repo.git("rm", "-q", "gone.py")
    git_repo.write("bin.dat", b"\x00\x01")
    git_repo.git("add", "-A")
    base = run_review(git_source(git_repo.root, staged=True), Config(), StaticBackend())
    extra = (
        _model_finding(
            WEIRD,
            2,
            3,
            Side.RIGHT,
            Severity.INFO,
            "values \x1b[31mchanged",
            "both changed\n# heading? <script>x</script> @octocat ![img](http://e.example/t.png)",
            "b = 2\nc = 3",
        ),
        _model_finding(
            "gone.py",
            1,
            1,
            Side.LEFT,
            Severity.WARNING,
            "removed check",
            "the deleted file held the only check",
        ),
    )
    tests = (
        TestSuggestion(
            "tests/test_app.py",
            "app.f",
            "def test_f():\n    assert True\n",
            CheckLevel.RAN,
            "passes",
            "model:tiny",
            source_path="app.py",
            line=1,
        ),
        TestSuggestion(
            "tests/test_app.py",
            "app.g",
            "x",
            CheckLevel.PARSED,
            "rejected",
            "skeleton",
            reason="target not found",
        ),
    )
    cov = replace(base.coverage, notes=("model skipped: no server",))
    return replace(
        base,
        findings=base.findings + extra,
        tests=tests,
        coverage=cov,
        head_sha="0123456789abcdef0123456789abcdef01234567",
    )


def _readme_json_names() -> set[str]:
    section = doc_page("output.md")
    bullet = section.split("- `json`:", 1)[1].split("\n- `", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", bullet))


def test_json_fields_are_the_documented_ones(result: ReviewResult) -> None:
    data = json.loads(FORMATS["json"](result, False))
    documented = _readme_json_names()
    assert data["version"] == JSON_VERSION == 1
    assert set(data) <= documented, set(data) - documented
    assert {"version", "findings", "tests", "coverage", "timings"} <= set(data)
    required = {
        "path",
        "line",
        "end_line",
        "side",
        "category",
        "severity",
        "title",
        "message",
        "source",
        "fingerprint",
    }
    for f in data["findings"]:
        assert required <= set(f) and set(f) <= documented, set(f) - documented
        assert ("suggestion" in f) == (f["source"] == "model:tiny" and f["side"] == "RIGHT")
    for t in data["tests"]:
        assert set(t) <= documented, set(t) - documented
    cov = data["coverage"]
    assert set(cov) <= documented, set(cov) - documented
    assert set(data["tool"]) <= documented
    assert {s["reason"] for s in cov["skipped"]} == {"deleted file", "binary"}
    for rec in cov["skipped"]:
        assert set(rec) <= documented
    assert {"parse", "static", "chunk", "total"} <= set(data["timings"]) <= documented
    assert data == result_to_json(result)


def test_json_finding_values(result: ReviewResult) -> None:
    data = result_to_json(result)
    eval_hit = next(f for f in data["findings"] if f.get("rule_id") == "py.eval")
    assert (
        eval_hit["path"],
        eval_hit["line"],
        eval_hit["side"],
        eval_hit["severity"],
        eval_hit["category"],
        eval_hit["cwe"],
    ) == ("app.py", 2, "RIGHT", "error", "security", "CWE-95")
    assert re.fullmatch(r"[0-9a-f]{24}", eval_hit["fingerprint"])
    left = next(f for f in data["findings"] if f["side"] == "LEFT")
    assert (left["path"], left["line"]) == ("gone.py", 1)


def test_sarif_is_valid_against_the_official_schema(result: ReviewResult) -> None:
    data = json.loads(FORMATS["sarif"](result, False))
    jsonschema.Draft7Validator.check_schema(SARIF_SCHEMA)
    jsonschema.Draft7Validator(SARIF_SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        data
    )
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len(run["results"]) == len(result.findings)
    for res, f in zip(run["results"], result.findings, strict=True):
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["partialFingerprints"]["reviewbotFingerprint/v1"] == f.fingerprint
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        if f.side is Side.RIGHT:
            assert loc["region"] == {"startLine": f.line, "endLine": f.end_line}
        else:
            assert "region" not in loc and "fixes" not in res  # no such line in the head
    weird = next(
        r
        for r in run["results"]
        if "space" in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    )
    uri = weird["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/t%C3%ABst%20%60tick%60.py"
    fix = weird["fixes"][0]["artifactChanges"][0]["replacements"][0]
    assert fix == {
        "deletedRegion": {"startLine": 2, "endLine": 3},
        "insertedContent": {"text": "b = 2\nc = 3\n"},
    }
    assert run["properties"]["coverage"]["summary"] == result.coverage.summary()
    assert run["properties"]["headSha"] == result.head_sha


def test_sarif_without_findings_is_valid(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    empty = run_review(git_source(git_repo.root), Config(), StaticBackend())
    data = result_to_sarif(empty)
    jsonschema.Draft7Validator(SARIF_SCHEMA).validate(data)
    assert data["runs"][0]["results"] == []


def test_markdown_report(result: ReviewResult) -> None:
    md = render_markdown(result)
    assert md.startswith("## reviewbot review\n")
    assert "at `0123456789ab`" in md
    assert "| security | 1 | 0 | 0 |" in md and "| bug | 0 | 2 | 1 |" in md
    # untrusted text cannot inject HTML, mentions, images or new blocks
    assert "<script>" not in md and "&lt;script&gt;" in md
    # mentions and links only inside inline code, where GitHub neither notifies nor links
    assert re.sub(r"`[^`]*`", "", md).count("@octocat") == 0 and "`@octocat`" in md
    assert "](http" not in md and "`http://e.example/t.png)`" in md
    assert "![img]" not in md
    assert "\n# heading" not in md
    # paths are code spans that survive backticks and are not HTML-escaped
    assert code_span(f"{WEIRD}:2-3") in md and "``dir with space/tëst `tick`.py:2-3``" in md
    assert "`gone.py:1` (removed line)" in md
    assert "**Coverage:** reviewed" in md and "- `bin.dat`: binary" in md
    assert "Suggested tests (1 checked of 2)" in md and "def test_f():" in md
    assert "> model skipped: no server" in md


def test_code_span_edge_cases() -> None:
    assert code_span("a.py") == "`a.py`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_span("a\nb") == "`a b`"


def test_text_report_grouped_by_file(result: ReviewResult) -> None:
    text = render_text(result)
    lines = text.splitlines()
    assert "\x1b" not in text  # no colour, and the model's ESC is shown escaped
    assert "values \\x1b[31mchanged" in text
    heads = [
        ln
        for ln in lines
        if ln
        and not ln.startswith(" ")
        and not ln.startswith(("skipped", "note", "static", "reviewbot:", "Suggested"))
    ]
    assert heads == ["app.py", WEIRD, "gone.py"]
    app = lines.index("app.py")
    assert re.match(r"\s+1\s+warning bug: a mutable default argument", lines[app + 1])
    assert "| def f(x, seen=[]):" in lines[app + 2]
    assert any(
        re.match(r"\s+2\s+error\s+security: eval\(\) on a non-constant value", ln) for ln in lines
    )
    assert any("1 (removed)" in ln for ln in lines)
    assert "skipped gone.py: deleted file" in text and "skipped bin.dat: binary" in text
    assert lines[-1].startswith("reviewbot: 4 findings (1 error, 2 warning, 1 info); reviewed ")
    assert "skipped: 1 binary, 1 deleted file" in lines[-1]
    coloured = render_text(result, color=True)
    assert "\x1b[31merror" in coloured and "\x1b[1mapp.py\x1b[0m" in coloured


def test_text_report_names_suggestions_stopped_for_one_reason_in_one_line(
    result: ReviewResult,
) -> None:
    why = "not collected: the head version of app.py is unavailable"
    same = tuple(
        TestSuggestion(
            "tests/test_app.py",
            f"app.{n}",
            "x",
            CheckLevel.PARSED,
            "rejected",
            "skeleton",
            reason=why,
        )
        for n in "fgh"
    )
    lines = render_text(replace(result, tests=same)).splitlines()
    (line,) = [ln for ln in lines if why in ln]
    assert "3 rejected at level 1 parsed (app.f, app.g, app.h)" in line
    mixed = render_text(result).splitlines()  # different outcomes: one line each
    assert any(ln.startswith("  app.f: passes") for ln in mixed)
    assert any(ln.startswith("  app.g: rejected") for ln in mixed)


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("env, coloured", [({}, True), ({"NO_COLOR": "1"}, False)])
def test_cli_colours_only_a_terminal(
    git_repo: GitRepo, env: dict[str, str], coloured: bool
) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    git_repo.write("a.py", "x = eval(input())\n")
    out, err = _Tty(), io.StringIO()
    code = main(["diff", "--no-tests"], IO(out, err, io.StringIO(), env, git_repo.root))
    assert code == 1
    assert ("\x1b[" in out.getvalue()) is coloured
    assert "a.py" in out.getvalue()


def _with_severities(result: ReviewResult, severities: list[Severity]) -> ReviewResult:
    fs = tuple(
        _model_finding("a.py", i + 1, i + 1, Side.RIGHT, s, f"t{i}", "m")
        for i, s in enumerate(severities)
    )
    return replace(result, findings=fs)


@pytest.mark.parametrize(
    "severities, expected",
    [
        ([], {"none": 0, "info": 0, "warning": 0, "error": 0}),
        ([Severity.INFO], {"none": 0, "info": 1, "warning": 0, "error": 0}),
        ([Severity.WARNING, Severity.INFO], {"none": 0, "info": 1, "warning": 1, "error": 0}),
        ([Severity.ERROR], {"none": 0, "info": 1, "warning": 1, "error": 1}),
    ],
)
def test_exit_code_for_fail_on(
    result: ReviewResult, severities: list[Severity], expected: dict[str, int]
) -> None:
    r = _with_severities(result, severities)
    got = {level.value: exit_code(r, Config(fail_on=level)) for level in FailOn}
    assert got == expected


@pytest.mark.parametrize(
    "fail_on, code", [("none", 0), ("info", 1), ("warning", 1), ("error", 0), (None, 0)]
)
def test_cli_fail_on_with_a_warning_only_change(
    git_repo: GitRepo, fail_on: str | None, code: int
) -> None:
    git_repo.write("a.py", "def f(x):\n    return x\n")
    git_repo.commit()
    git_repo.write("a.py", "def f(x, acc={}):\n    return x\n")
    args = ["diff", "--format", "json", "--no-tests"] + (["--fail-on", fail_on] if fail_on else [])
    res = run_cli(args, git_repo.root)
    assert res.code == code, res.err
    assert [f["severity"] for f in json.loads(res.out)["findings"]] == ["warning"]


def test_fail_on_from_environment_and_config(git_repo: GitRepo) -> None:
    git_repo.write("a.py", "def f(x):\n    return x\n")
    git_repo.commit()
    git_repo.write("a.py", "def f(x, acc={}):\n    return x\n")
    env = {"REVIEWBOT_TESTS": "false"}
    assert run_cli(["diff"], git_repo.root, env={**env, "REVIEWBOT_FAIL_ON": "warning"}).code == 1
    git_repo.write(".reviewbot.yml", "fail_on: warning\n")
    assert run_cli(["diff"], git_repo.root, env=env).code == 1
    # flags beat the environment, which beats the file
    assert run_cli(["diff"], git_repo.root, env={**env, "REVIEWBOT_FAIL_ON": "error"}).code == 0
    assert (
        run_cli(
            ["diff", "--fail-on", "info"], git_repo.root, env={**env, "REVIEWBOT_FAIL_ON": "error"}
        ).code
        == 1
    )


def test_every_format_writes_to_output_file(
    result: ReviewResult, git_repo: GitRepo, tmp_path: Path
) -> None:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    git_repo.write("a.py", "x = eval(input())\n")
    for fmt in FORMATS:
        target = tmp_path / f"report.{fmt}"
        res = run_cli(
            ["diff", "--format", fmt, "-o", str(target), "--fail-on", "none", "--no-tests"],
            git_repo.root,
        )
        assert res.code == 0 and res.out == ""
        body = target.read_text(encoding="utf-8")
        assert "a.py" in body
        if fmt in ("json", "sarif"):
            data: Any = json.loads(body)
            assert data


def test_non_utf8_path_keeps_json_and_sarif_valid_utf8(git_repo: GitRepo) -> None:
    import subprocess
    import sys

    name = b"caf\xe9.py".decode("utf-8", "surrogateescape")
    (git_repo.root / name).write_bytes(b"x = 1\n")
    git_repo.commit()
    (git_repo.root / name).write_bytes(b"x = eval(input())\n")
    for fmt in ("json", "sarif"):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "reviewbot",
                "diff",
                "--format",
                fmt,
                "--no-tests",
                "--fail-on",
                "none",
            ],
            cwd=git_repo.root,
            capture_output=True,
            check=True,
        )
        data = json.loads(proc.stdout.decode("utf-8"))  # strict: valid UTF-8
        assert data
    res = json.loads(proc.stdout.decode("utf-8"))
    uri = res["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert uri["uri"] == "caf%E9.py"  # the original bytes, percent-encoded
