"""Does reviewbot keep a continuous-batching server full? A simulated GPU behind real HTTP.

A 64-chunk review (64 changed Python files, one chunk each) goes through the real engine
and the real ``vllm`` backend (thread pool, one pooled httpx client, /tokenize, parsing) to
the fake vLLM server (tests/fakes/vllm_server.py) on 127.0.0.1. The fake's answers are held
back by a simulated continuous-batching GPU running in wall-clock time:

- at most ``B`` requests in flight (vLLM's ``--max-num-seqs``), the rest queue FIFO;
- a request's latency is its prompt tokens at the prefill rate plus its output tokens at its
  decode rate; prefill throughput is shared among requests prefilling at the same moment,
  and decode throughput is shared among the requests decoding: each gets
  ``min(single-stream rate, aggregate rate / n decoding)``, the shape of a real GPU where one
  stream is memory-bound and a full batch is compute-bound;
- the simulator is event-driven (rates are recomputed at each arrival and completion), so
  its own timing error is tiny.

Output lengths are fixed per chunk (a deterministic spread of 120-480 tokens) so every run
sees the same work. Rates default to a 7B model on one A100-class GPU (100 tokens/s per
stream, 1,200 tokens/s aggregate decode, 10,000 tokens/s prefill), sped up ``--speed`` times
so the run is short (the ratios do not depend on it, fixed overheads weigh more at higher
speeds).

Also reported: the share of prompt tokens that is a prefix common to every chunk's prompt
(what vLLM's prefix cache computes once) and prompt tokens per changed line.

Reported: the wall time of the whole review (``run_review``: parse, static checks, token
counting, chunking, model stage) and of the model stage alone; the critical path: the same
simulated server given every request at t=0 by a perfect client (no HTTP, no parsing, same
order), computed in virtual time; the throughput bound (max of the longest single request,
total prefill / prefill rate, total decode / min(aggregate rate, B x single-stream rate)),
which no FIFO server reaches because the last wave runs with few streams; and the same
review sent one chunk at a time (``llm.concurrency: 1``). Targets: wall within 1.10x of the
critical path, at least 8x faster than one by one.

    .venv/bin/python benchmarks/scheduling.py                  # B = 16 = llm.concurrency
    .venv/bin/python benchmarks/scheduling.py --slots 32 --concurrency 32
    .venv/bin/python benchmarks/scheduling.py --skip-sequential --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.backends.openai_http import make_vllm  # noqa: E402
from reviewbot.config import load_config  # noqa: E402
from reviewbot.engine import run_review  # noqa: E402
from reviewbot.sources import patch_source  # noqa: E402
from tests.fakes.vllm_server import FakeRequest, FakeVLLM, Reply, fake_tokens  # noqa: E402

MODEL = "codellama/CodeLlama-7b-Instruct-hf"


@dataclass
class Job:
    prefill: float
    decode: float
    done: threading.Event = field(default_factory=threading.Event)
    admitted_at: float = 0.0
    finished_at: float = 0.0


class SimulatedGPU:
    """Continuous batching in wall-clock time (see the module docstring)."""

    def __init__(
        self, slots: int, prefill_rate: float, stream_rate: float, aggregate_rate: float
    ) -> None:
        self.slots = slots
        self.prefill_rate = prefill_rate
        self.stream_rate = stream_rate
        self.aggregate_rate = aggregate_rate
        self.queue: list[Job] = []
        self.running: list[Job] = []
        self.busy_since: float | None = None
        self.last_done = 0.0
        self._cv = threading.Condition()
        self._last = time.perf_counter()
        self._stop = False
        self._thread = threading.Thread(target=self._loop, daemon=True, name="sim-gpu")
        self._thread.start()

    def run(self, prompt_tokens: int, output_tokens: int) -> None:
        job = Job(float(prompt_tokens), float(output_tokens))
        with self._cv:
            self._advance()
            self.queue.append(job)
            if self.busy_since is None:
                self.busy_since = time.perf_counter()
            self._cv.notify()
        job.done.wait()

    def _rates(self) -> tuple[float, float]:
        pre = sum(1 for j in self.running if j.prefill > 0)
        dec = sum(1 for j in self.running if j.prefill <= 0)
        prefill_each = self.prefill_rate / pre if pre else 0.0
        decode_each = min(self.stream_rate, self.aggregate_rate / dec) if dec else 0.0
        return prefill_each, decode_each

    def _advance(self) -> None:
        now = time.perf_counter()
        dt = now - self._last
        self._last = now
        if dt > 0 and self.running:
            prefill_each, decode_each = self._rates()
            for j in self.running:
                if j.prefill > 0:
                    j.prefill -= prefill_each * dt
                else:
                    j.decode -= decode_each * dt
        for j in [j for j in self.running if j.prefill <= 1e-9 and j.decode <= 1e-9]:
            self.running.remove(j)
            j.finished_at = now
            self.last_done = now
            j.done.set()
        while self.queue and len(self.running) < self.slots:
            job = self.queue.pop(0)
            job.admitted_at = now
            self.running.append(job)

    def _next_event(self) -> float | None:
        if not self.running:
            return None
        prefill_each, decode_each = self._rates()
        times = []
        for j in self.running:
            if j.prefill > 0:
                times.append(j.prefill / prefill_each)
            else:
                times.append(j.decode / decode_each)
        return max(min(times), 0.0)

    def _loop(self) -> None:
        with self._cv:
            while not self._stop:
                self._advance()
                wait = self._next_event()
                self._cv.wait(timeout=wait if wait is not None else 0.5)

    def close(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify()
        self._thread.join(timeout=2)


def ideal_makespan(
    jobs: list[tuple[int, int]],
    slots: int,
    prefill_rate: float,
    stream_rate: float,
    aggregate_rate: float,
) -> float:
    """The simulated server's makespan with a perfect client: every request arrives at t=0
    (in the same order), no HTTP, no parsing. Same rate rules as SimulatedGPU, virtual time."""
    queue = [[float(p), float(o)] for p, o in jobs]
    running: list[list[float]] = []
    t = 0.0
    while queue or running:
        while queue and len(running) < slots:
            running.append(queue.pop(0))
        pre = sum(1 for j in running if j[0] > 0)
        dec = len(running) - pre
        prefill_each = prefill_rate / pre if pre else 0.0
        decode_each = min(stream_rate, aggregate_rate / dec) if dec else 0.0
        dt = min(j[0] / prefill_each if j[0] > 0 else j[1] / decode_each for j in running)
        t += dt
        for j in running:
            if j[0] > 0:
                j[0] -= prefill_each * dt
            else:
                j[1] -= decode_each * dt
        running = [j for j in running if j[0] > 1e-9 or j[1] > 1e-9]
    return t


def output_tokens(index: int) -> int:
    return 120 + (index * 37) % 361  # 120..480, spread evenly, same every run


def make_patch(files: int) -> bytes:
    out = []
    for i in range(files):
        body = [
            f"def handler_{i}(request, store):",
            "    user = request.args.get('user')",
            f"    rows = store.query('select * from t{i} where id = ?', (user,))",
            "    total = 0",
            "    for row in rows:",
            f"        total += row.amount * {i + 1}",
            "    return {'user': user, 'total': total}",
        ]
        out.append(
            f"diff --git a/svc/mod{i}.py b/svc/mod{i}.py\nnew file mode 100644\n"
            f"--- /dev/null\n+++ b/svc/mod{i}.py\n@@ -0,0 +1,{len(body)} @@\n"
            + "".join(f"+{line}\n" for line in body)
        )
    return "".join(out).encode()


def run_once(
    files: int,
    slots: int,
    concurrency: int,
    rates: tuple[float, float, float],
    budget: int,
    static: bool = True,
) -> dict[str, float]:
    gpu = SimulatedGPU(slots, *rates)
    jobs: list[tuple[int, int]] = []
    prompts: list[str] = []
    lock = threading.Lock()

    def respond(req: FakeRequest) -> Reply:
        with lock:
            index = len(jobs)
        out = output_tokens(index)
        prompt = srv.prompt_tokens(req)
        with lock:
            jobs.append((prompt, out))
            prompts.append(req.prompt)
        gpu.run(prompt, out)
        return Reply(json.dumps({"findings": []}), completion_tokens=out)

    with FakeVLLM(respond, model=MODEL, max_model_len=16384) as srv:
        cfg = load_config(
            env={},
            overrides={
                "llm.url": srv.url,
                "llm.model": MODEL,
                "llm.concurrency": concurrency,
                "llm.max_prompt_tokens": budget,
                "tests.enabled": False,
                "static_checks": static,
            },
        )
        backend = make_vllm(cfg)
        t0 = time.perf_counter()
        result = run_review(patch_source(make_patch(files), "bench"), cfg, backend)
        wall = time.perf_counter() - t0
        backend.close()
    gpu.close()
    prefill_rate, stream_rate, aggregate = rates
    longest = max(p / prefill_rate + o / stream_rate for p, o in jobs)
    throughput_bound = max(
        longest,
        sum(p for p, _ in jobs) / prefill_rate,
        sum(o for _, o in jobs) / min(aggregate, slots * stream_rate),
    )
    bound = ideal_makespan(jobs, slots, *rates)
    shared = fake_tokens(os.path.commonprefix(prompts)) if len(prompts) > 1 else 0
    return {
        "chunks": result.coverage.chunks_total,
        "chunks_reviewed": result.coverage.chunks_model_reviewed,
        "wall_s": wall,
        "model_stage_s": result.timings.get("model", 0.0),
        "chunking_s": result.timings.get("chunk", 0.0),
        "lower_bound_s": bound,
        "throughput_bound_s": throughput_bound,
        "shared_prefix_share": shared * len(prompts) / max(sum(p for p, _ in jobs), 1),
        "prompt_tokens_per_changed_line": sum(p for p, _ in jobs)
        / max(result.coverage.lines_total, 1),
        "prompt_tokens": sum(p for p, _ in jobs),
        "output_tokens": sum(o for _, o in jobs),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--chunks", type=int, default=64, help="changed files (one chunk each)")
    ap.add_argument("--slots", type=int, default=16, help="server batch slots (max-num-seqs)")
    ap.add_argument("--concurrency", type=int, default=16, help="llm.concurrency")
    ap.add_argument("--speed", type=float, default=5.0, help="simulated GPU speed-up")
    ap.add_argument(
        "--budget", type=int, default=700, help="llm.max_prompt_tokens (700: one file per chunk)"
    )
    ap.add_argument("--no-static", action="store_true", help="skip the static checks")
    ap.add_argument("--skip-sequential", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    args = ap.parse_args(argv)
    rates = (10_000 * args.speed, 100 * args.speed, 1_200 * args.speed)
    conc = run_once(
        args.chunks, args.slots, args.concurrency, rates, args.budget, not args.no_static
    )
    report: dict[str, object] = {
        "concurrent": conc,
        "slots": args.slots,
        "concurrency": args.concurrency,
        "speed": args.speed,
    }
    print(
        f"{conc['chunks']:.0f} chunks ({conc['chunks_reviewed']:.0f} reviewed), "
        f"{conc['prompt_tokens']:.0f} prompt + {conc['output_tokens']:.0f} output tokens; "
        f"server B={args.slots}, llm.concurrency={args.concurrency}, speed x{args.speed:g}"
    )
    print(
        f"  concurrent: wall {conc['wall_s']:.2f} s (model stage {conc['model_stage_s']:.2f} s,"
        f" chunking {conc['chunking_s']:.2f} s)"
    )
    print(
        f"  critical path (same server, every request at t=0, no client): "
        f"{conc['lower_bound_s']:.2f} s; wall / critical path = "
        f"{conc['wall_s'] / conc['lower_bound_s']:.3f} (target <= 1.10)"
    )
    print(
        f"  throughput bound (work / peak rate, ignores the last wave's tail): "
        f"{conc['throughput_bound_s']:.2f} s; wall / bound = "
        f"{conc['wall_s'] / conc['throughput_bound_s']:.3f}"
    )
    print(
        f"  prompts: {100 * conc['shared_prefix_share']:.1f}% of prompt tokens are a prefix "
        f"shared by every chunk (prefix-cache hits); "
        f"{conc['prompt_tokens_per_changed_line']:.1f} prompt tokens per changed line"
    )
    if not args.skip_sequential:
        seq = run_once(args.chunks, args.slots, 1, rates, args.budget, not args.no_static)
        report["sequential"] = seq
        print(
            f"  one by one: wall {seq['wall_s']:.2f} s; concurrent is "
            f"{seq['wall_s'] / conc['wall_s']:.1f}x faster (target >= 8x)"
        )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
