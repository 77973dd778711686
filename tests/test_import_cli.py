"""`reviewbot diff --import` and `reviewbot hook --import` on real linters' output in a real
git repository: every result that touches the diff is placed (kept, or folded into the
built-in finding for the same issue), every other one is dropped with a count."""

from __future__ import annotations

import json
from pathlib import Path

from tests import linter_tools
from tests.conftest import GitRepo, run_cli

BASE_PY = "import os\n\n\ndef q(db, name):\n    y = 2\n    return db\n"
HEAD_PY = (
    "import os\nimport sqlite3\n\n\ndef q(db, name):\n    y = 2\n    cur = db.cursor()\n"
    '    cur.execute(f"SELECT * FROM t WHERE n = {name}")\n'
    '    os.system("ls " + name)\n    x = 1\n    return cur\n'
)
ADDED_PY = {2, 7, 8, 9, 10}
BASE_SH = "#!/bin/sh\necho $1\n"
HEAD_SH = "#!/bin/sh\necho $1\nfor f in $(ls *.txt); do\n  cat $f\ndone\n"
ADDED_SH = {3, 4, 5}
BASE_JS = "var x = 1\nfunction f(a) { return }\n"
HEAD_JS = "var x = 1\nif (x == 2) { eval(y) }\nfunction f(a) { return }\n"
ADDED_JS = {2}
ESLINT_CONFIG = (
    'export default [{ rules: { eqeqeq: "error", "no-eval": "error", '
    '"no-unused-vars": "warn", "no-undef": "error" } }];\n'
)


def _repo(git_repo: GitRepo, base: dict[str, str], head: dict[str, str]) -> GitRepo:
    for path, text in base.items():
        git_repo.write(path, text)
    git_repo.commit("base")
    for path, text in head.items():
        git_repo.write(path, text)
    return git_repo


def _review(repo: GitRepo, *imports: Path, builtin_ruff: bool = True) -> dict[str, object]:
    args = ["diff", "--format", "json", "--no-tests"]
    for p in imports:
        args += ["--import", str(p)]
    res = run_cli(args, repo.root, env={} if builtin_ruff else {"REVIEWBOT_RUFF": "0"})
    assert res.code in (0, 1), res.err
    data: dict[str, object] = json.loads(res.out)
    return data


def _check_placement(
    data: dict[str, object], results: list[tuple[str, int, str]], added: dict[str, set[int]]
) -> None:
    """Every result on an added line is a finding, or the duplicate of a built-in one; the
    others are counted as dropped."""
    findings = data["findings"]
    assert isinstance(findings, list)
    dropped = data["dropped"]
    assert isinstance(dropped, dict)
    imported = {
        (f["path"], f["line"], f["rule_id"])
        for f in findings
        if f["source"] == f.get("rule_id") and not f["source"].startswith(("py.", "js.", "tpl."))
    }
    touching = [r for r in results if r[1] in added[r[0]]]
    off = [r for r in results if r[1] not in added[r[0]]]
    assert touching and off  # the scenario has both
    duplicates = dropped.get("imported, duplicate of another tool's finding", 0)
    assert imported <= set(touching)
    assert len(imported) + duplicates == len(set(touching))
    assert dropped.get("imported, not on an added line", 0) == len(off)
    notes = data["coverage"]["notes"]  # type: ignore[index]
    assert any(
        f"{len(imported)} kept" in n and f"{len(off)} not on an added line" in n for n in notes
    )


def _results(repo: GitRepo, data: bytes) -> list[tuple[str, int, str]]:
    from reviewbot.imports.read import parse_import

    return [(d.path, d.line, d.rule_id) for d in parse_import(data, "x", repo.root).diagnostics]


def test_diff_import_real_ruff_sarif_and_rdjson(git_repo: GitRepo) -> None:
    repo = _repo(git_repo, {"app.py": BASE_PY}, {"app.py": HEAD_PY})
    for fmt in ("sarif", "rdjson"):
        out = linter_tools.output(
            linter_tools.ruff() + ["--select", "F,S", "--output-format", fmt, "app.py"], repo.root
        )
        target = repo.root.parent / f"ruff.{fmt}"
        target.write_bytes(out)
        # the import's own accounting, without the built-in ruff run finding the same
        data = _review(repo, target, builtin_ruff=False)
        _check_placement(data, _results(repo, out), {"app.py": ADDED_PY})
        # with it, each issue is still one finding: the imported copy is the duplicate
        both = _review(repo, target)
        seen = [(f["line"], f["rule_id"]) for f in both["findings"]]  # type: ignore[attr-defined]
        assert len(seen) == len(set(seen)) and (10, "ruff.F841") in seen
        rules = {(f["line"], f["source"]) for f in data["findings"]}  # type: ignore[attr-defined]
        # ruff's S608 and S605 are the same issues as the taint rules' (one comment each):
        assert (8, "py.sql-injection") in rules and (8, "ruff.S608") not in rules
        assert (9, "py.shell-injection") in rules and (9, "ruff.S605") not in rules
        assert (10, "ruff.F841") in rules and (2, "ruff.F401") in rules
        assert (5, "ruff.F841") not in rules  # `y = 2` is an old line


def test_diff_import_real_shellcheck_checkstyle_and_json(git_repo: GitRepo) -> None:
    repo = _repo(git_repo, {"s.sh": BASE_SH}, {"s.sh": HEAD_SH})
    for fmt in ("checkstyle", "json"):
        out = linter_tools.output(linter_tools.shellcheck() + ["-f", fmt, "s.sh"], repo.root)
        target = repo.root.parent / f"sc.{fmt}"
        target.write_bytes(out)
        data = _review(repo, target)
        _check_placement(data, _results(repo, out), {"s.sh": ADDED_SH})


def test_diff_import_real_eslint_json_sarif_and_two_files_at_once(git_repo: GitRepo) -> None:
    repo = _repo(
        git_repo,
        {"a.js": BASE_JS, "eslint.config.mjs": ESLINT_CONFIG, "s.sh": BASE_SH},
        {"a.js": HEAD_JS, "s.sh": HEAD_SH},
    )
    out = linter_tools.output(linter_tools.eslint() + ["-f", "json", "a.js"], repo.root)
    target = repo.root.parent / "eslint.json"
    target.write_bytes(out)
    data = _review(repo, target)
    _check_placement(data, _results(repo, out), {"a.js": ADDED_JS})
    rules = {(f["line"], f["source"]) for f in data["findings"]}  # type: ignore[attr-defined]
    assert (2, "js.eval") in rules and (2, "eslint.no-eval") not in rules
    assert (2, "eslint.no-undef") in rules
    sarif = linter_tools.output(linter_tools.eslint_sarif() + ["a.js"], repo.root)
    (repo.root.parent / "eslint.sarif").write_bytes(sarif)
    from_sarif = _review(repo, repo.root.parent / "eslint.sarif")
    _check_placement(from_sarif, _results(repo, sarif), {"a.js": ADDED_JS})
    assert {(f["line"], f["source"]) for f in from_sarif["findings"]} == rules  # type: ignore[attr-defined]
    sc = linter_tools.output(linter_tools.shellcheck() + ["-f", "checkstyle", "s.sh"], repo.root)
    (repo.root.parent / "sc.xml").write_bytes(sc)
    both = _review(repo, target, repo.root.parent / "sc.xml")
    paths = {f["path"] for f in both["findings"]}  # type: ignore[attr-defined]
    assert paths == {"a.js", "s.sh"}


def test_every_report_format_carries_the_import_drop_count(git_repo: GitRepo) -> None:
    repo = _repo(git_repo, {"s.sh": BASE_SH}, {"s.sh": HEAD_SH})
    out = linter_tools.output(linter_tools.shellcheck() + ["-f", "json", "s.sh"], repo.root)
    (repo.root.parent / "sc.json").write_bytes(out)
    for fmt in ("text", "markdown", "json", "sarif"):
        res = run_cli(["diff", "--format", fmt, "--no-tests", "--import", "../sc.json"], repo.root)
        assert res.code in (0, 1), res.err
        assert "1 not on an added line" in res.out, fmt


def test_bad_import_file_is_a_usage_error_naming_it(git_repo: GitRepo) -> None:
    repo = _repo(git_repo, {"s.sh": BASE_SH}, {"s.sh": HEAD_SH})
    (repo.root.parent / "x.xml").write_text('<!DOCTYPE x [<!ENTITY a "b">]><checkstyle/>')
    res = run_cli(["diff", "--import", str(repo.root.parent / "x.xml")], repo.root)
    assert res.code == 2
    assert "x.xml: XML with a DOCTYPE or entities is refused" in res.err


def test_hook_takes_import_files(git_repo: GitRepo) -> None:
    repo = _repo(git_repo, {"s.sh": BASE_SH}, {"s.sh": HEAD_SH})
    repo.git("add", "s.sh")
    out = linter_tools.output(linter_tools.shellcheck() + ["-f", "checkstyle", "s.sh"], repo.root)
    (repo.root.parent / "sc.xml").write_bytes(out)
    res = run_cli(["hook", "--import", str(repo.root.parent / "sc.xml"), "s.sh"], repo.root)
    assert res.code == 1, res.err  # SC2045 is an error on an added line
    assert "shellcheck.SC2045" in res.out
    assert "1 not on an added line" in res.out
