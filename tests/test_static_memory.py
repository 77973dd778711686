"""The static analysis of a file keeps nothing of its syntax tree once it is done."""

from __future__ import annotations

import gc
import sys

from reviewbot.context.extract import SourceFile
from reviewbot.static import analyze
from reviewbot.static.pynodes import call_name, call_name_cache

CODE = b"""\
import os, subprocess

def handler(request, cur):
    q = request.args["q"]
    cur.execute(f"SELECT * FROM t WHERE a = '{q}'")
    os.system("ls " + q)
    subprocess.run(q, shell=True)
    return eval(q)
"""


def test_analysis_releases_the_tree() -> None:
    src = SourceFile.from_bytes("app.py", CODE)
    tree = src.tree
    assert tree is not None
    gc.collect()
    before = sys.getrefcount(tree)
    hits = analyze(src, frozenset(range(1, 9)))
    assert {h.rule_id for h in hits} >= {"py.sql-injection", "py.eval"}
    gc.collect()
    # Nodes hold a reference to their tree: a memo of call_name that outlived the
    # analysis (the old process-wide lru_cache) would keep the tree alive.
    assert sys.getrefcount(tree) == before


def test_call_name_memo_lives_inside_its_scope_only() -> None:
    tree = SourceFile.from_bytes("a.py", b"self . cursor.execute(x)\n").tree
    assert tree is not None
    call = tree.root_node.named_children[0].named_children[0]
    assert call.type == "call"
    assert call_name(call) == "self.cursor.execute"  # no scope: computed, not kept
    count = sys.getrefcount(call)
    with call_name_cache():
        assert call_name(call) == "self.cursor.execute"
        assert call_name(call) == "self.cursor.execute"
        assert sys.getrefcount(call) > count  # the memo holds the node
    gc.collect()
    assert sys.getrefcount(call) == count


def test_engine_drops_each_tree_after_its_checks_and_keeps_the_definitions() -> None:
    from reviewbot.diff.parse import parse_diff
    from reviewbot.prepare import PreparedFile
    from reviewbot.static_stage import _file_static

    head = CODE.decode()
    patch = (
        "diff --git a/app.py b/app.py\nnew file mode 100644\n--- /dev/null\n+++ b/app.py\n"
        "@@ -0,0 +1,8 @@\n" + "".join(f"+{ln}\n" for ln in head.splitlines())
    )
    fd = parse_diff(patch).files[0]
    src = SourceFile.from_bytes("app.py", CODE)
    checks = _file_static(PreparedFile(fd, src, False), frozenset())
    assert checks.findings and checks.definitions
    assert src._tree is None and not src._parsed  # released: memory stays bounded
    # what chunking asks next is answered without parsing again
    ((span, defs),) = checks.definitions.items()
    assert span == (1, 8) and tuple(src.definitions_at(*span)) == defs
    assert src._tree is None
