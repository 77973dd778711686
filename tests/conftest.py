"""Shared fixtures: real git repositories in temp dirs, and the CLI run in-process."""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.io import IO

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
        env.update({"GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com",
                    "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"})
        out = subprocess.run(["git", *args], cwd=self.root, env=env, input=input,
                             capture_output=True, check=True)
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


def run_cli(args: list[str], cwd: Path, env: Mapping[str, str] | None = None,
            stdin: bytes = b"") -> CliRun:
    out, err = io.StringIO(), io.StringIO()
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    base.update(env or {})
    code = main(args, IO(out, err, _BytesStdin(stdin), base, cwd))
    return CliRun(code, out.getvalue(), err.getvalue())
