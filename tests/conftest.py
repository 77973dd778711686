"""Shared fixtures: real git repositories in temp dirs, and the CLI run in-process."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.io import IO
from tests.llama_server import LlamaServer, llama_cpp_available

FIXTURES = Path(__file__).parent / "fixtures"


def require_slow(reason: str) -> None:
    """Skip a test that needs an optional server; under CI (REVIEWBOT_REQUIRE_SLOW=1) fail."""
    if os.environ.get("REVIEWBOT_REQUIRE_SLOW") == "1":
        pytest.fail(f"required for CI but unavailable: {reason}")
    pytest.skip(reason)


@dataclass
class GitRepo:
    root: Path

    def git(self, *args: str, input: bytes | None = None) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env.update(
            {
                "GIT_AUTHOR_NAME": "T",
                "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "T",
                "GIT_COMMITTER_EMAIL": "t@example.com",
            }
        )
        out = subprocess.run(
            ["git", *args], cwd=self.root, env=env, input=input, capture_output=True, check=True
        )
        return out.stdout.decode("utf-8", "surrogateescape")

    def write(self, path: str, content: str | bytes) -> Path:
        p = self.root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_bytes(content.encode("utf-8"))
        else:
            p.write_bytes(content)
        return p

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    root = tmp_path / "repo"
    root.mkdir()
    repo = GitRepo(root)
    repo.git("init", "-q", "-b", "main")
    return repo


@dataclass
class CliRun:
    code: int
    out: str
    err: str


class _BytesStdin(io.StringIO):
    def __init__(self, data: bytes) -> None:
        super().__init__(data.decode("utf-8", "replace"))
        self.buffer = io.BytesIO(data)


def run_cli(
    args: list[str], cwd: Path, env: Mapping[str, str] | None = None, stdin: bytes = b""
) -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    base.update(env or {})
    code = main(args, IO(out, err, _BytesStdin(stdin), base, cwd))
    return CliRun(code, out.getvalue(), err.getvalue())


SERVER_LOGS: dict[str, Callable[[], str]] = {}
"""Fixture name -> the real model server's own log, shown when a test using it fails."""


@pytest.fixture(scope="session")
def llama() -> Iterator[LlamaServer]:
    """One llama.cpp server (SmolLM2-135M) for every test that needs it, started on first
    use. Its start-up has its own budget (``start_timeout``); the tests using it mark their
    timeout ``func_only``, so start-up is not charged to the first of them."""
    why = llama_cpp_available()
    if why:
        require_slow(why)
    with LlamaServer(n_ctx=2048, n_threads=2, start_timeout=240) as srv:
        SERVER_LOGS["llama"] = lambda: server_report(srv)
        yield srv
    SERVER_LOGS.pop("llama", None)


def server_report(srv: LlamaServer) -> str:
    times = srv.generation_seconds()
    head = (
        f"{len(times)} completions, server time {sum(times):.1f} s in all, longest "
        f"{max(times, default=0.0):.1f} s\n"
    )
    return head + srv.log_text()[-4000:]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failed test that used a real model server shows that server's own timings."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, read in list(SERVER_LOGS.items()):
            if name in getattr(item, "fixturenames", ()):
                report.sections.append((f"{name} server log (its own timings)", read()))
