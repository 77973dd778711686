"""Deliveries and load clients for benchmarks/webhook_load.py (see its docstring)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD = ROOT / "tests" / "fixtures" / "webhooks" / "pull_request.synchronize.json"
SECRET = "bench-secret"
Result = tuple[str, int, float]
"""(delivery kind, HTTP status, seconds from request written to response read)."""


def build_deliveries(
    n: int, prs: int, dup: float, bad: float, malformed: float, seed: int
) -> list[dict[str, Any]]:
    from reviewbot.server.signature import sign

    rng = random.Random(seed)
    template = json.loads(PAYLOAD.read_text(encoding="utf-8"))
    n_dup, n_bad, n_mal = round(n * dup), round(n * bad), round(n * malformed)
    n_valid = n - n_dup - n_bad - n_mal
    valid = []
    for i in range(n_valid):
        body = dict(template)
        pr = dict(template["pull_request"])
        pr["number"] = rng.randint(1, prs)
        pr["head"] = dict(pr["head"], sha=f"{i:040x}")
        body["pull_request"], body["number"] = pr, pr["number"]
        raw = json.dumps(body).encode()
        valid.append(
            {
                "kind": "valid",
                "id": f"bench-{i}",
                "raw": raw,
                "sig": sign(SECRET.encode(), raw),
                "pr": pr["number"],
                "seq": i,
            }
        )
    out = list(valid)
    out += [dict(rng.choice(valid), kind="dup") for _ in range(n_dup)]
    for i in range(n_bad):
        src = rng.choice(valid)
        out.append(dict(src, kind="bad", id=f"bad-{i}", sig=sign(b"not-the-secret", src["raw"])))
    for i in range(n_mal):
        raw = b"payload=" + os.urandom(64).hex().encode()
        out.append(
            {"kind": "malformed", "id": f"mal-{i}", "raw": raw, "sig": sign(SECRET.encode(), raw)}
        )
    rng.shuffle(out)
    return out


def headers_for(d: dict[str, Any]) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": d["id"],
        "X-Hub-Signature-256": d["sig"],
    }


async def send_raw(
    port: int, deliveries: list[dict[str, Any]], concurrency: int
) -> tuple[list[tuple[str, int, float]], float]:
    """A minimal HTTP/1.1 client: one keep-alive connection per concurrent sender."""
    results: list[tuple[str, int, float]] = []
    todo = iter(deliveries)

    async def request(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> int:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return status

    async def sender() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            await request(reader, writer, "GET", "/healthz", {}, b"")  # warm-up
            await ready.wait()
            for d in todo:
                t0 = time.perf_counter()
                status = await request(reader, writer, "POST", "/webhook", headers_for(d), d["raw"])
                results.append((d["kind"], status, time.perf_counter() - t0))
        finally:
            writer.close()

    ready = asyncio.Event()
    tasks = [asyncio.create_task(sender()) for _ in range(concurrency)]
    await asyncio.sleep(0.5)  # all connections open and warmed up
    started = time.perf_counter()
    ready.set()
    await asyncio.gather(*tasks)
    return results, time.perf_counter() - started


async def send_httpx(
    url: str, deliveries: list[dict[str, Any]], concurrency: int
) -> tuple[list[tuple[str, int, float]], float]:
    import httpx

    results: list[tuple[str, int, float]] = []
    todo = iter(deliveries)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async def one_worker(client: httpx.AsyncClient) -> None:
        for d in todo:
            t0 = time.perf_counter()
            resp = await client.post(url, content=d["raw"], headers=headers_for(d))
            results.append((d["kind"], resp.status_code, time.perf_counter() - t0))

    async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
        await asyncio.gather(
            *(client.get(url.replace("/webhook", "/healthz")) for _ in range(concurrency))
        )  # warm-up: open the connections
        started = time.perf_counter()
        await asyncio.gather(*(one_worker(client) for _ in range(concurrency)))
    return results, time.perf_counter() - started
