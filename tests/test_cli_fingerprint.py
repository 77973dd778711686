"""Fingerprints identify a finding across runs: line shifts and re-indentation keep them,
a different file, category, rule or code changes them."""

from __future__ import annotations

import json

from reviewbot.findings import Category, fingerprint
from tests.conftest import GitRepo, run_cli

BODY = "def handler(request):\n    data = request.body\n    return eval(data)\n"


def _eval_finding(repo: GitRepo) -> tuple[int, str]:
    res = run_cli(["diff", "--format", "json", "--fail-on", "none", "--no-tests"], repo.root)
    assert res.code == 0, res.err
    hits = [
        (f["line"], f["fingerprint"])
        for f in json.loads(res.out)["findings"]
        if f["rule_id"] == "py.eval"
    ]
    assert len(hits) == 1, hits
    return hits[0]


def test_fingerprint_survives_lines_inserted_above(git_repo: GitRepo) -> None:
    git_repo.write("app.py", "import os\n")
    git_repo.commit()
    git_repo.write("app.py", "import os\n\n\n" + BODY)
    line, fp = _eval_finding(git_repo)
    assert line == 6
    header = "import os\nimport sys\n\nLIMIT = 10\n\n\ndef other():\n    return sys.argv\n\n\n"
    git_repo.write("app.py", header + BODY)
    moved_line, moved_fp = _eval_finding(git_repo)
    assert moved_line == 13 and moved_fp == fp
    # re-indented into a class: whitespace is normalised away
    git_repo.write(
        "app.py",
        "import os\n\n\nclass H:\n" + "".join("    " + ln + "\n" for ln in BODY.splitlines()),
    )
    assert _eval_finding(git_repo)[1] == fp
    # the same code in another file is another finding
    git_repo.write("app.py", "import os\n")
    git_repo.write("api.py", BODY)
    assert _eval_finding(git_repo)[1] != fp  # an untracked file is reviewed as new
    # different code on the line is another finding
    (git_repo.root / "api.py").unlink()
    git_repo.write("app.py", "import os\n\n\n" + BODY.replace("eval(data)", "eval(data + 1)"))
    assert _eval_finding(git_repo)[1] != fp


def test_fingerprint_function_properties() -> None:
    base = fingerprint("a.py", "x = eval(y)", Category.SECURITY, "Use of eval")
    assert fingerprint("a.py", "  x  =  eval(y)\n", Category.SECURITY, "Use of eval") == base
    assert fingerprint("a.py", "x = eval(y)", Category.SECURITY, "use of EVAL!") == base
    assert fingerprint("b.py", "x = eval(y)", Category.SECURITY, "Use of eval") != base
    assert fingerprint("a.py", "x = eval(z)", Category.SECURITY, "Use of eval") != base
    assert fingerprint("a.py", "x = eval(y)", Category.BUG, "Use of eval") != base
    assert fingerprint("a.py", "x = eval(y)", Category.SECURITY, "py.eval") != base
    assert fingerprint("a.py", "x = eval(y)", Category.SECURITY, "Use of eval", 0) == base
    second = fingerprint("a.py", "x = eval(y)", Category.SECURITY, "Use of eval", 1)
    assert second != base
    assert fingerprint("a.py", "x = eval(y)", Category.SECURITY, "Use of eval", 2) != second


def _eval_findings(repo: GitRepo) -> list[tuple[int, str]]:
    res = run_cli(["diff", "--format", "json", "--fail-on", "none", "--no-tests"], repo.root)
    assert res.code == 0, res.err
    return [
        (f["line"], f["fingerprint"])
        for f in json.loads(res.out)["findings"]
        if f["rule_id"] == "py.eval"
    ]


def test_identical_lines_are_distinct_findings_that_keep_their_identity(git_repo: GitRepo) -> None:
    """The same code line twice in a file is two findings, not one deduped away; each keeps
    its fingerprint when unrelated lines are inserted above, and the first one's is the
    fingerprint a unique line would have (comments posted before still match)."""
    git_repo.write("app.py", "import os\n")
    git_repo.commit()
    twice = BODY + "\n\n" + BODY.replace("def handler", "def other")
    git_repo.write("app.py", "import os\n\n\n" + twice)
    hits = _eval_findings(git_repo)
    assert [line for line, _ in hits] == [6, 11]
    assert hits[0][1] != hits[1][1]
    git_repo.write("app.py", "import os\nimport sys\n\nLIMIT = 1\n\n\n" + twice)
    moved = _eval_findings(git_repo)
    assert [line for line, _ in moved] == [9, 14]
    assert [fp for _, fp in moved] == [fp for _, fp in hits]
    git_repo.write("app.py", "import os\n\n\n" + BODY)
    assert _eval_findings(git_repo)[0][1] == hits[0][1]  # the unique line's fingerprint
