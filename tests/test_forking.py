"""Static checks of a large change spread over forked processes: same results, no loss."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reviewbot.backends.static import StaticBackend
from reviewbot.config import Config
from reviewbot.diff.parse import parse_diff
from reviewbot.engine import run_review
from reviewbot.forking import ForkMap, batches, can_fork
from reviewbot.prepare import prepare_files
from reviewbot.sources import CachingReader, git_source
from reviewbot.static_stage import static_job
from tests.conftest import GitRepo

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

PARENT = os.getpid()


def _square(x: int) -> int:
    return x * x


def _dies_in_child(x: int) -> int:
    if os.getpid() != PARENT:
        os._exit(7)  # a crash of the child (SIGKILL, OOM) looks like this to the parent
    return x + 1


def _raises_in_child(x: int) -> int:
    if os.getpid() != PARENT:
        raise RuntimeError("boom")
    return -x


def _slow_in_child(x: int) -> int:
    if os.getpid() != PARENT:
        time.sleep(60)
    return x


def _slow_in_child_only(x: int) -> int:
    if os.getpid() != PARENT:
        time.sleep(0.2)
    return x * 3


def _slow(x: int) -> int:
    time.sleep(0.005)
    return x * x


def test_batches_cover_every_item_once_heaviest_first_and_lighter_each_time() -> None:
    weights = [1.0, 9.0, 5.0, 7.0, 2.0, 5.0, 3.0, 1.0, 2.0, 1.0] * 30
    got = batches(weights, 12)
    assert sorted(i for b in got for i in b) == list(range(len(weights)))
    assert len(got) == 12
    sums = [sum(weights[i] for i in b) for b in got]
    assert sums == sorted(sums, reverse=True)  # the last taken are the lightest
    assert sums[-1] < sums[0] / 4
    assert batches([], 12) == []
    assert batches([0.0, 0.0], 12) == [[0, 1]]


def test_forkmap_results_in_item_order_from_parent_and_child() -> None:
    items = list(range(40))
    with ForkMap(_slow, items, [1.0] * 40, workers=2) as job:
        assert job.forked == 1
        job.run_local()
        assert 0 < len(job.local) < 40  # both took batches
        assert job.results() == [x * x for x in items]


def test_three_processes_share_the_queue_and_the_results_come_back_in_order() -> None:
    items = list(range(90))
    with ForkMap(_slow, items, [float(x % 7 + 1) for x in items], workers=3) as job:
        assert job.forked == 2
        job.run_local()
        assert 0 < len(job.local) < 90
        assert job.results() == [x * x for x in items]


def test_a_slow_child_takes_fewer_items_the_parent_does_the_rest() -> None:
    # No share is fixed in advance: the child sleeps on each item, so the parent, which
    # does not, takes the batches the child does not get to (a split by weight would have
    # made the parent wait for half of the items at 0.2 s each).
    items = list(range(48))
    started = time.monotonic()
    with ForkMap(_slow_in_child_only, items, [1.0] * 48, workers=2) as job:
        job.run_local()
        mine = len(job.local)
        assert job.results() == [x * 3 for x in items]
    assert mine >= 40
    assert time.monotonic() - started < 0.2 * 20


def test_one_worker_never_forks() -> None:
    with ForkMap(_square, [1, 2, 3], [1.0, 1.0, 1.0], workers=1) as job:
        assert job.forked == 0
        assert job.results() == [1, 4, 9]


@pytest.mark.parametrize(
    "fn, expected", [(_dies_in_child, lambda x: x + 1), (_raises_in_child, lambda x: -x)]
)
def test_a_failing_child_costs_time_not_results(fn, expected) -> None:  # type: ignore[no-untyped-def]
    items = list(range(12))
    with ForkMap(fn, items, [1.0] * 12, workers=2) as job:
        assert job.forked == 1
        assert job.results() == [expected(x) for x in items]


def test_leaving_early_kills_and_reaps_the_children() -> None:
    job = ForkMap(_slow_in_child, list(range(6)), [1.0] * 6, workers=2)
    pids = [c.pid for c in job._children]
    assert pids
    with pytest.raises(KeyError), job:
        raise KeyError("the review failed elsewhere")
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie left behind


def _big_change(repo: GitRepo, files: int = 48) -> tuple[str, str]:
    """A change over > 512 KB of Python, with a few rule hits in every file."""
    body = "".join(
        f"def helper_{k}(value, limit=10):\n"
        f"    total = value * {k} + limit\n"
        f"    if total > {k * 3}:\n"
        f"        return total - {k}\n"
        f"    return total\n\n"
        for k in range(120)
    )
    for n in range(files):
        repo.write(f"pkg/mod_{n}.py", f'"""Module {n}."""\nimport yaml\n\n{body}')
    base = repo.commit("base")
    for n in range(files):
        path = repo.root / f"pkg/mod_{n}.py"
        text = path.read_text().replace("    return total\n", "    return (total)\n")
        text += (
            f"\n\ndef handler_{n}(cur, query, payload, seen=[]):\n"
            f"    try:\n        value = eval(payload)\n    except:\n        pass\n"
            f"    cur.execute(f\"SELECT * FROM t WHERE name = '{{query}}'\")\n"
            f"    seen.append(value)\n    return yaml.load(payload)\n"
        )
        path.write_text(text)
    head = repo.commit("head")
    return base, head


@pytest.mark.skipif(not can_fork(), reason="fork is used only on Linux")
def test_forked_review_equals_single_process_review(git_repo: GitRepo) -> None:
    base, head = _big_change(git_repo)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}

    def review(jobs: int):  # type: ignore[no-untyped-def]
        source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=env)
        return run_review(source, Config(jobs=jobs), StaticBackend())

    source = git_source(Path(git_repo.root), rev=f"{base}..{head}", env=env)
    prepared, _ = prepare_files(parse_diff(source.diff), CachingReader(source.reader), Config())
    with static_job(prepared, Config(jobs=2)) as job:
        # the change is large enough to be split (unless a thread another test left
        # running makes forking unsafe: then it runs in one process, same results)
        assert job.forked == (1 if can_fork() else 0)
        with_context = job.results()
    # the forked children send back each hunk's definitions (for chunk items) only when
    # asked: a review with no model skips them, its findings unchanged
    with static_job(prepared, Config(jobs=2), definitions=False) as job:
        bare = job.results()
    assert all(c.definitions for c in with_context) and not any(c.definitions for c in bare)
    assert [c.findings for c in bare] == [c.findings for c in with_context]

    one, two = review(1), review(2)
    assert one.findings == two.findings
    assert one.coverage == two.coverage
    rules = {f.rule_id for f in two.findings}
    assert {"py.eval", "ruff.E722", "py.sql-injection", "py.yaml-load", "ruff.B006"} <= rules
    assert {f.path for f in two.findings} == {f"pkg/mod_{n}.py" for n in range(48)}
