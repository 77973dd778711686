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
    hits = [(f["line"], f["fingerprint"]) for f in json.loads(res.out)["findings"]
            if f["rule_id"] == "py.eval"]
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
    git_repo.write("app.py", "import os\n\n\nclass H:\n" + "".join(
        "    " + ln + "\n" for ln in BODY.splitlines()))
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
