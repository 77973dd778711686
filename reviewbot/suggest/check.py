"""The checking levels every suggested test goes through before anyone sees it.

1. PARSED: it parses (``ast``), has a test function, imports only the module under test,
   pytest, the standard library or a declared dependency, and refers to its target (a
   changed function that exists in the head version).
2. COLLECTED: ``python -m pytest --collect-only`` collects it against the head version, in
   the sandbox (sandbox.py; the runs are driven by runs.py).
3. RAN (only when ``tests.run`` is on, never for skeletons): it ran; "passes on this
   change", or "fails on this change — possible bug" / rejected per ``tests.on_fail``.

All suggestions of a change share one sandbox and one pytest process per level (a run
includes collection, so with ``tests.run`` on there is a single process). When a file's
collection or a test hangs, the watchdog kills the process, that suggestion is rejected, and
the files not finished yet are run again without it.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from reviewbot.config import OnFail, TestsConfig
from reviewbot.result import CheckLevel, TestSuggestion
from reviewbot.suggest.imports import ALWAYS_ALLOWED, ImportPolicy, head_closure
from reviewbot.suggest.runs import FileState, clean_message, run_checks
from reviewbot.suggest.sandbox import RunReport, Sandbox
from reviewbot.suggest.targets import Target

MAX_CODE = 20_000
PASSES = "passes on this change"
FAILS = "fails on this change — possible bug"

Read = Callable[[str], "bytes | None"]


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str
    """The test file path shown to the user (relative, ``test_*.py``)."""
    target: Target
    code: str
    source: str
    """'skeleton' or 'model:<name>'."""
    rejected: str = ""
    """A reason found before checking (e.g. the answer named an unknown target)."""


def has_test(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            return True
        if (
            isinstance(node, ast.ClassDef)
            and node.name.startswith("Test")
            and any(
                isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test")
                for n in node.body
            )
        ):
            return True
    return False


def refers_to(tree: ast.Module, name: str) -> bool:
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id == name) or (
            isinstance(node, ast.Attribute) and node.attr == name
        ):
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == name for a in node.names):
            return True
    return False


def level1_reason(c: Candidate, policy: ImportPolicy) -> str | None:
    """Why ``c`` fails level 1, or None when it passes."""
    if c.rejected:
        return c.rejected
    if len(c.code) > MAX_CODE:
        return f"longer than {MAX_CODE} characters"
    try:
        tree = ast.parse(c.code)
    except SyntaxError as exc:
        return f"does not parse: {exc.msg} (line {exc.lineno})"
    except ValueError as exc:  # null bytes
        return f"does not parse: {exc}"
    if not has_test(tree):
        return "has no test function (def test_...)"
    why = policy.reason(tree, c.target.module)
    if why:
        return why
    if not refers_to(tree, c.target.name):
        return f"never refers to {c.target.name}, its target"
    return None


def verdict(c: Candidate, st: FileState | None, config: TestsConfig, ran: bool) -> TestSuggestion:
    """The TestSuggestion for a candidate that passed level 1."""

    def make(level: CheckLevel, outcome: str, reason: str = "") -> TestSuggestion:
        return TestSuggestion(
            path=c.path,
            target=c.target.full_name,
            code=c.code,
            level=level,
            outcome=outcome,
            source=c.source,
            reason=reason,
            source_path=c.target.path,
            line=c.target.line,
        )

    if st is None:
        return make(CheckLevel.PARSED, "rejected", "not collected: the sandbox was not set up")
    timeout = f"{config.timeout:g}s"
    if st.stalled and "::" not in st.stalled:
        return make(
            CheckLevel.PARSED, "rejected", f"collecting it did not finish within {timeout}; killed"
        )
    if st.died and not st.collected:
        return make(CheckLevel.PARSED, "rejected", clean_message(st.died))
    if st.collect_error or not st.collected:
        return make(
            CheckLevel.PARSED,
            "rejected",
            "pytest could not collect it: " + clean_message(st.collect_error or "error"),
        )
    if not st.items:
        return make(CheckLevel.PARSED, "rejected", "pytest collected no tests from it")
    if c.source == "skeleton":
        return make(
            CheckLevel.COLLECTED,
            "skeleton",
            "a skeleton to complete: fill in the TODO values, remove the skip mark",
        )
    if not ran:
        return make(CheckLevel.COLLECTED, "collected", "not run (tests.run is off)")
    return _run_verdict(make, st, config)


def _run_verdict(
    make: Callable[[CheckLevel, str, str], TestSuggestion], st: FileState, config: TestsConfig
) -> TestSuggestion:
    """The verdict of a collected candidate whose tests were run."""
    timeout = f"{config.timeout:g}s"
    if st.stalled:
        name = clean_message(st.stalled.split("::")[-1])
        return make(
            CheckLevel.COLLECTED, "rejected", f"{name} did not finish within {timeout}; killed"
        )
    if st.died:
        return make(CheckLevel.COLLECTED, "rejected", clean_message(st.died))
    failed = [(n, m) for n, (o, m) in st.outcomes.items() if o == "failed"]
    if failed:
        nodeid, msg = failed[0]
        detail = f"{clean_message(nodeid.split('::')[-1])}: {clean_message(msg) or 'failed'}"
        if len(failed) > 1:
            detail += f" (and {len(failed) - 1} more)"
        if config.on_fail == OnFail.DROP:
            return make(
                CheckLevel.RAN,
                "rejected",
                f"fails on this change, dropped (tests.on_fail: drop): {detail}",
            )
        return make(CheckLevel.RAN, FAILS, detail)
    passed = [n for n, (o, _) in st.outcomes.items() if o == "passed"]
    if not passed:
        return make(CheckLevel.COLLECTED, "collected", "every test was skipped when run")
    return make(
        CheckLevel.RAN,
        PASSES,
        f"{len(passed)} of {len(st.items)} tests passed" if len(passed) != len(st.items) else "",
    )


NOT_EXECUTED = (
    "not collected or run: reviewbot never executes the code of a pull request it reviews on GitHub"
)


def static_verdict(c: Candidate, missing: str | None) -> TestSuggestion:
    """The TestSuggestion for a candidate that passed level 1, when nothing may be executed:
    shown when the module's project imports resolve in the head (``missing`` is None)."""
    if missing:
        return TestSuggestion(
            path=c.path,
            target=c.target.full_name,
            code=c.code,
            level=CheckLevel.PARSED,
            outcome="rejected",
            reason=f"not checked: {missing}",
            source=c.source,
            source_path=c.target.path,
            line=c.target.line,
            static_only=True,
        )
    if c.source == "skeleton":
        outcome, reason = (
            "skeleton",
            (
                "a skeleton to complete: fill in the TODO values, remove "
                "the skip mark; " + NOT_EXECUTED
            ),
        )
    else:
        outcome, reason = "checked statically", NOT_EXECUTED
    return TestSuggestion(
        path=c.path,
        target=c.target.full_name,
        code=c.code,
        level=CheckLevel.PARSED,
        outcome=outcome,
        reason=reason,
        source=c.source,
        source_path=c.target.path,
        line=c.target.line,
        static_only=True,
    )


def _file_name(index: int, path: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_]", "_", PurePosixPath(path).stem)[:40] or "suggested"
    return f"test_rb{index:03d}_{stem.removeprefix('test_')}.py"


def check_candidates(
    candidates: Sequence[Candidate],
    read: Read,
    declared: frozenset[str],
    config: TestsConfig,
    *,
    run: bool,
    base_env: Mapping[str, str],
    python: str = sys.executable,
    isolation: str = "auto",
    sandbox_parent: str | None = None,
    execute: bool = False,
) -> tuple[list[TestSuggestion], list[RunReport]]:
    """Check every candidate as far as it goes; results in the candidates' order.

    Without ``execute`` no sandbox is made and no process started: candidates that pass
    level 1 and whose module's project imports resolve in the head are shown as checked
    statically (:func:`static_verdict`)."""
    results, passing = _level1(candidates, ImportPolicy(declared))
    reports: list[RunReport] = []
    skip = frozenset(sys.stdlib_module_names) | ALWAYS_ALLOWED | declared
    if passing and not execute:
        results.update(_static_results(candidates, passing, read, skip))
    elif passing:
        sandbox = Sandbox(sandbox_parent)
        try:
            roots, written, missing = _lay_out(sandbox, candidates, passing, read, skip)
            states: dict[str, FileState] = {}
            if written:
                states, reports = run_checks(
                    list(written.values()),
                    sandbox,
                    roots,
                    config,
                    run=run,
                    base_env=base_env,
                    python=python,
                    isolation=isolation,
                )
            for i in passing:
                c = candidates[i]
                if i in missing:
                    results[i] = replace(
                        verdict(c, None, config, run), reason=f"not collected: {missing[i]}"
                    )
                else:
                    results[i] = replace(
                        verdict(c, states.get(written[i]), config, run),
                        isolation=reports[-1].isolation_detail if reports else "",
                    )
        finally:
            sandbox.close()
    return [results[i] for i in range(len(candidates))], reports


def _level1(
    candidates: Sequence[Candidate],
    policy: ImportPolicy,
) -> tuple[dict[int, TestSuggestion], list[int]]:
    """The rejections at level 1 by index, and the indexes of the candidates that pass it."""
    results: dict[int, TestSuggestion] = {}
    passing: list[int] = []
    for i, c in enumerate(candidates):
        why = level1_reason(c, policy)
        if why is None:
            passing.append(i)
        else:
            results[i] = TestSuggestion(
                path=c.path,
                target=c.target.full_name,
                code=c.code,
                level=CheckLevel.UNCHECKED,
                outcome="rejected",
                reason=why,
                source=c.source,
                source_path=c.target.path,
                line=c.target.line,
            )
    return results, passing


def _static_results(
    candidates: Sequence[Candidate], passing: Sequence[int], read: Read, skip: frozenset[str]
) -> dict[int, TestSuggestion]:
    """Verdicts without executing anything (:func:`static_verdict`), by index."""
    closures: dict[tuple[str, str], str | None] = {}
    results: dict[int, TestSuggestion] = {}
    for i in passing:
        t = candidates[i].target
        key = (t.import_root, t.path)
        if key not in closures:
            closures[key] = head_closure(t.import_root, t.module, t.path, read, skip)[1]
        results[i] = static_verdict(candidates[i], closures[key])
    return results


def _lay_out(
    sandbox: Sandbox,
    candidates: Sequence[Candidate],
    passing: Sequence[int],
    read: Read,
    skip: frozenset[str],
) -> tuple[list[Path], dict[int, str], dict[int, str]]:
    """Write each passing candidate's head files and test file into ``sandbox``.

    Returns the import roots, the sandbox-relative test file of each candidate written, and
    why each other one was not (a project import of its module missing in the head)."""
    closures: dict[tuple[str, str], str | None] = {}
    roots: list[Path] = []
    written: dict[int, str] = {}
    missing: dict[int, str] = {}
    for i in passing:
        t = candidates[i].target
        key = (t.import_root, t.path)
        if key not in closures:
            files, error = head_closure(t.import_root, t.module, t.path, read, skip)
            for p, data in files.items():
                sandbox.write_source(p, data)
            closures[key] = error
            root = sandbox.root / "src" / t.import_root
            if root not in roots:
                roots.append(root)
        if closures[key]:
            missing[i] = str(closures[key])
        else:
            written[i] = sandbox.write_test(_file_name(i, candidates[i].path), candidates[i].code)
    return roots, written, missing
