"""Import parsers on real linter output (ruff, shellcheck, eslint) and on hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewbot.errors import ConfigError
from reviewbot.findings import Category, Severity
from reviewbot.imports.read import MAX_IMPORT_BYTES, parse_import, read_import
from tests import linter_tools

PY = (
    "import os\nimport sqlite3\n\n\ndef q(db, name):\n    cur = db.cursor()\n"
    '    cur.execute(f"SELECT * FROM t WHERE n = {name}")\n'
    '    os.system("ls " + name)\n    x = 1\n    return cur\n'
)
SH = "#!/bin/sh\necho $1\nfor f in $(ls *.txt); do\n  cat $f\ndone\n"
JS = "var x = 1\nif (x == 2) { eval(y) }\nfunction f(a) { return }\n"
ESLINT_CONFIG = (
    'export default [{ rules: { eqeqeq: "error", "no-eval": "error", '
    '"no-unused-vars": "warn", "no-undef": "error" } }];\n'
)


def _ruff(tmp_path: Path, fmt: str) -> bytes:
    (tmp_path / "app.py").write_text(PY)
    return linter_tools.output(
        linter_tools.ruff() + ["--select", "F,S", "--output-format", fmt, "app.py"], tmp_path
    )


@pytest.mark.parametrize("fmt", ["sarif", "rdjson"])
def test_real_ruff_output_is_read_with_paths_relative_to_the_root(tmp_path: Path, fmt: str) -> None:
    batch = parse_import(_ruff(tmp_path, fmt), f"ruff.{fmt}", tmp_path)
    assert batch.format == fmt
    got = {(d.path, d.line, d.rule_id) for d in batch.diagnostics}
    assert got == {
        ("app.py", 2, "ruff.F401"),
        ("app.py", 7, "ruff.S608"),
        ("app.py", 8, "ruff.S605"),
        ("app.py", 9, "ruff.F841"),
    }
    by_code = {d.code: d for d in batch.diagnostics}
    assert by_code["S608"].category is Category.SECURITY and by_code["S608"].cwe == "CWE-89"
    assert by_code["F841"].category is Category.BUG
    assert "never used" in by_code["F841"].message
    assert batch.skipped == {}


def test_the_root_given_as_a_symlink_still_matches_absolute_paths(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    data = _ruff(real, "sarif")
    batch = parse_import(data, "ruff.sarif", tmp_path / "link")
    assert {d.path for d in batch.diagnostics} == {"app.py"}


def test_results_outside_the_root_are_dropped_with_a_count(tmp_path: Path) -> None:
    data = _ruff(tmp_path, "sarif")
    batch = parse_import(data, "ruff.sarif", tmp_path / "elsewhere")
    assert batch.diagnostics == ()
    assert batch.skipped == {"path outside the repository": 4}


def test_real_shellcheck_checkstyle_json_and_json1(tmp_path: Path) -> None:
    (tmp_path / "s.sh").write_text(SH)
    sc = linter_tools.shellcheck()
    want = {
        ("s.sh", 2, "shellcheck.SC2086"),
        ("s.sh", 3, "shellcheck.SC2045"),
        ("s.sh", 3, "shellcheck.SC2035"),
        ("s.sh", 4, "shellcheck.SC2086"),
    }
    for fmt, expect in (
        ("checkstyle", "checkstyle"),
        ("json", "shellcheck"),
        ("json1", "shellcheck"),
    ):
        batch = parse_import(
            linter_tools.output(sc + ["-f", fmt, "s.sh"], tmp_path), f"sc.{fmt}", tmp_path
        )
        assert batch.format == expect
        assert {(d.path, d.line, d.rule_id) for d in batch.diagnostics} == want, fmt
        levels = {d.code: d.severity for d in batch.diagnostics}
        assert levels["SC2045"] is Severity.ERROR and levels["SC2086"] is Severity.INFO


def test_real_eslint_json(tmp_path: Path) -> None:
    (tmp_path / "a.js").write_text(JS)
    (tmp_path / "eslint.config.mjs").write_text(ESLINT_CONFIG)
    data = linter_tools.output(linter_tools.eslint() + ["-f", "json", "a.js"], tmp_path)
    batch = parse_import(data, "eslint.json", tmp_path)
    assert batch.format == "eslint"
    got = {(d.path, d.line, d.rule_id, d.severity) for d in batch.diagnostics}
    assert got == {
        ("a.js", 2, "eslint.eqeqeq", Severity.ERROR),
        ("a.js", 2, "eslint.no-eval", Severity.ERROR),
        ("a.js", 2, "eslint.no-undef", Severity.ERROR),
        ("a.js", 3, "eslint.no-unused-vars", Severity.WARNING),
    }
    assert next(d for d in batch.diagnostics if d.code == "no-eval").cwe == "CWE-95"


def test_real_mypy_json_lines(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('def f(x: int) -> str:\n    return x\n\ny: int = "a"\n')
    data = linter_tools.output(linter_tools.mypy() + ["m.py"], tmp_path)
    batch = parse_import(data, "mypy.json", tmp_path)
    assert batch.format == "mypy"
    assert {(d.path, d.line, d.rule_id, d.severity) for d in batch.diagnostics} == {
        ("m.py", 2, "mypy.return-value", Severity.ERROR),
        ("m.py", 4, "mypy.assignment", Severity.ERROR),
    }


def test_sarif_uri_base_ids_and_rule_defaults(tmp_path: Path) -> None:
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "Semgrep OSS",
                        "rules": [
                            {
                                "id": "r1",
                                "defaultConfiguration": {"level": "note"},
                                "properties": {"tags": ["security", "CWE-79: XSS"]},
                            }
                        ],
                    }
                },
                "originalUriBaseIds": {
                    "SRC": {"uri": "src/"},
                    "ROOT": {"uri": tmp_path.as_uri() + "/"},
                },
                "results": [
                    {
                        "ruleId": "r1",
                        "ruleIndex": 0,
                        "message": {"text": "m"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "a%20b.py", "uriBaseId": "SRC"},
                                    "region": {"startLine": 3},
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "r1",
                        "message": {"text": "m"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "lib/x.py", "uriBaseId": "ROOT"},
                                    "region": {"startLine": 5, "endLine": 7},
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "r2",
                        "level": "error",
                        "message": {"text": "whole file"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "y.py"}}}],
                    },
                    {
                        "ruleId": "r2",
                        "message": {"text": "escape"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "../../etc/x"},
                                    "region": {"startLine": 1},
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "r2",
                        "message": {"text": "web"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "https://example.com/x.py"},
                                    "region": {"startLine": 1},
                                }
                            }
                        ],
                    },
                ],
            }
        ],
    }
    batch = parse_import(json.dumps(doc).encode(), "s.sarif", tmp_path)
    a, b = batch.diagnostics
    assert (a.path, a.line, a.end_line, a.tool, a.severity) == (
        "src/a b.py",
        3,
        3,
        "semgrep-oss",
        Severity.INFO,
    )
    assert (b.path, b.line, b.end_line) == ("lib/x.py", 5, 7)
    assert a.category is Category.SECURITY and a.cwe == "CWE-79"
    assert batch.skipped == {"no line (file-level result)": 1, "path outside the repository": 2}


def test_rdjsonl_and_mypy_lines(tmp_path: Path) -> None:
    rdl = (
        b'{"message":"m1","location":{"path":"a.go","range":{"start":{"line":4}}},'
        b'"severity":"ERROR","source":{"name":"golangci"},"code":{"value":"errcheck"}}\n'
        b'{"message":"m2","location":{"path":"./b/../c.go","range":{"start":{"line":1},'
        b'"end":{"line":2}}}}\n'
    )
    batch = parse_import(rdl, "x.rdjsonl", tmp_path)
    assert batch.format == "rdjsonl"
    assert [(d.path, d.line, d.end_line, d.rule_id, d.severity) for d in batch.diagnostics] == [
        ("a.go", 4, 4, "golangci.errcheck", Severity.ERROR),
        ("c.go", 1, 2, "rdjsonl", Severity.WARNING),
    ]
    mypy = (
        b'{"file": "m.py", "line": 3, "column": 4, "message": "Incompatible", '
        b'"hint": null, "code": "assignment", "severity": "error"}\n'
    )
    batch = parse_import(mypy, "mypy.json", tmp_path)
    assert batch.format == "mypy"
    assert [(d.path, d.line, d.rule_id) for d in batch.diagnostics] == [
        ("m.py", 3, "mypy.assignment")
    ]


def test_xml_with_a_doctype_is_refused(tmp_path: Path) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;">]><checkstyle><file name="a">'
        b'<error line="1" message="&lol2;"/></file></checkstyle>'
    )
    with pytest.raises(ConfigError, match=r"cs\.xml: XML with a DOCTYPE"):
        parse_import(bomb, "cs.xml", tmp_path)


@pytest.mark.parametrize(
    ("data", "fmt", "match"),
    [
        (b"{not json", None, r"bad\.json: line 1 is not JSON"),
        (b'{"runs": [NaN], "version": "2.1.0"}', None, r"line 1 is not JSON \(NaN is not JSON"),
        (b'{"hello": 1}', None, r"cannot tell its format"),
        (b"", None, r"is empty"),
        (b"\xff\xfe\x00", None, r"not UTF-8"),
        (b"<checkstyle><file", None, r"not well-formed XML"),
        (b"<foo/>", None, r"not <checkstyle>"),
        (b'{"runs": 3, "version": "2.1.0"}', None, r"\(sarif\): runs is not a list"),
        (b'{"runs": [], "version": "2.0.0"}', None, r"only 2\.1\.0"),
        (b'[{"filePath": "a", "messages": [1]}]', "eslint", r"messages\[0\] is not an object"),
        (b"[" * 100000 + b"]" * 100000, "sarif", r"not one JSON document|is not JSON"),
    ],
)
def test_bad_import_files_are_errors_naming_the_file(
    tmp_path: Path, data: bytes, fmt: str | None, match: str
) -> None:
    with pytest.raises(ConfigError, match=match) as exc:
        parse_import(data, "bad.json", tmp_path, fmt)
    assert "bad.json" in str(exc.value)


def test_size_is_capped_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.sarif"
    with big.open("wb") as fh:
        fh.truncate(MAX_IMPORT_BYTES + 1)
    with pytest.raises(ConfigError, match=r"big\.sarif is larger than 50 MB"):
        read_import(big, tmp_path)
    with pytest.raises(ConfigError, match=r"cannot read import file .*missing\.sarif"):
        read_import(tmp_path / "missing.sarif", tmp_path)
