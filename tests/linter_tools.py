"""Real linters for the import tests: ruff (in the venv), shellcheck (Debian), eslint (npm).

Each finder returns the tool's argv prefix or skips (under CI, with REVIEWBOT_REQUIRE_SLOW=1,
fails): .ci/run installs shellcheck with apt-get and eslint 9 with npm into
``$HOME/.cache/reviewbot-ci/eslint``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_slow

ESLINT_PREFIX = Path.home() / ".cache" / "reviewbot-ci" / "eslint"


def ruff() -> list[str]:
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if exe is None:
        require_slow("ruff is not installed")
    return [str(exe), "check", "--no-cache", "--isolated"]


def mypy() -> list[str]:
    exe = shutil.which("mypy", path=str(Path(sys.executable).parent)) or shutil.which("mypy")
    if exe is None:
        require_slow("mypy is not installed")
    return [str(exe), "--no-incremental", "--cache-dir", os.devnull, "-O", "json"]


def shellcheck() -> list[str]:
    exe = shutil.which("shellcheck")
    if exe is None:
        require_slow("shellcheck is not installed (apt-get install shellcheck)")
    return [str(exe)]


def eslint() -> list[str]:
    local = ESLINT_PREFIX / "node_modules" / ".bin" / "eslint"
    exe = os.environ.get("REVIEWBOT_ESLINT") or (str(local) if local.exists() else None)
    if exe is None or shutil.which("node") is None:
        require_slow(f"eslint is not installed (npm install --prefix {ESLINT_PREFIX} eslint@9)")
    return [str(exe)]


def eslint_sarif() -> list[str]:
    """eslint with Microsoft's SARIF formatter (npm @microsoft/eslint-formatter-sarif)."""
    argv = eslint()
    formatter = ESLINT_PREFIX / "node_modules" / "@microsoft" / "eslint-formatter-sarif"
    if not (formatter / "sarif.js").exists():
        require_slow(
            "@microsoft/eslint-formatter-sarif is not installed (npm install --prefix "
            f"{ESLINT_PREFIX} @microsoft/eslint-formatter-sarif)"
        )
    return [*argv, "-f", str(formatter / "sarif.js")]


def output(argv: list[str], cwd: Path) -> bytes:
    """The tool's report on stdout (linters exit 1 when they found something)."""
    done = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr.decode("utf-8", "replace")
    assert done.stdout.strip(), done.stderr.decode("utf-8", "replace")
    return done.stdout
