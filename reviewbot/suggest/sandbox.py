"""Run pytest on suggested tests in a separate, limited process.

Every run gets: a temporary working directory (a copy of the head files; never the
repository), a scrubbed environment (PATH, LANG, HOME and TMPDIR inside the sandbox, the
PYTHONPATH set here, proxies pointed at a closed port; no tokens), resource limits set with
``resource.setrlimit`` in ``preexec_fn`` (CPU time, address space, file size, open files,
processes, no core files: sandbox_limits.py), its own session so the whole process group
is killed on timeout, and a network guard (``sitecustomize``). Where Linux allows
unprivileged user namespaces it also runs in fresh network, mount and PID namespaces with
every mount but the working directory read-only (see sandbox_launch.py), and a process
limit counted inside them.

What was actually used is recorded, never assumed: ``RunReport.isolation_detail`` names the
mode and whether the process limit holds (probed once: RLIMIT_NPROC is not enforced for
root outside a user namespace). Without namespaces the weaker mode is reported as such and
callers say so out loud. Residual risk of that mode: the tests run as the user, so they can
read the files the user can and the environment of the user's other processes
(``/proc/PID/environ`` of the shell); only reviewbot's own environment is protected, by
making this process non-dumpable during the run and, as root, dropping the capabilities
that bypass that (CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_PERFMON, ...) from the child's
bounding set.

The sandboxed pytest reports progress on a pipe (sandbox_plugin.py); the watchdog here kills
the run when one test file's collection or one test has been going for longer than
``timeout`` and tells the caller which one it was.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import IO, Any

from reviewbot.result import STRONG_ISOLATION
from reviewbot.suggest.sandbox_cgroup import PidsCgroup
from reviewbot.suggest.sandbox_limits import Limits, limiter, not_dumpable

GUARD = "sitecustomize.py"
PLUGIN = "reviewbot_sandbox_plugin"
LAUNCHER = "reviewbot_sandbox_launch.py"
UNSHARE_ARGS = (
    "--user",
    "--map-root-user",
    "--net",
    "--mount",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
)
_OUTPUT_TAIL = 4000
_STARTUP_GRACE = 20.0
"""Seconds pytest may take to start before its first event, on top of ``timeout``."""
NAMESPACES = f"{STRONG_ISOLATION} (user+pid+net+mount)"
PROCESS = "rlimits only: no namespaces (unshare unavailable)"
PROCESS_LIMIT_KILL = "process limit"
"""``RunReport.killed_for`` when a test hit the process limit (a fork bomb)."""


@dataclass(slots=True)
class RunReport:
    """What one sandboxed pytest process did."""

    events: list[dict[str, Any]] = field(default_factory=list)
    returncode: int | None = None
    stalled: str | None = None
    """The test file (collecting) or test node id (running) that hit the timeout."""
    killed_after: float | None = None
    output: str = ""
    """Tail of pytest's stdout and stderr (diagnostics when it did not start)."""
    seconds: float = 0.0
    isolation: str = "process"
    """The mode used: ``namespaces`` or ``process``."""
    isolation_detail: str = PROCESS
    """What that mode gave, for people: :data:`NAMESPACES` or :data:`PROCESS`, and whether
    the process limit holds."""
    killed_for: str | None = None
    """Set with ``stalled`` when the run was killed for a reason other than time:
    :data:`PROCESS_LIMIT_KILL` (the process limit was hit; ``stalled`` names the item)."""


class Sandbox:
    """A temporary directory laid out for sandboxed runs; remove it with :meth:`close`.

    Layout: ``src/`` holds head files at their repository paths, ``suggested/`` the test
    files, ``_rb/`` the guard, plugin and launcher, ``home/`` and ``tmp/`` are HOME/TMPDIR.
    """

    def __init__(self, parent: str | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="reviewbot-tests-", dir=parent)).resolve()
        for d in ("src", "suggested", "_rb", "home", "tmp"):
            (self.root / d).mkdir()
        pkg = resources.files("reviewbot.suggest")
        for name, dest in (
            ("sandbox_guard.py", GUARD),
            ("sandbox_plugin.py", f"{PLUGIN}.py"),
            ("sandbox_launch.py", LAUNCHER),
        ):
            (self.root / "_rb" / dest).write_bytes(pkg.joinpath(name).read_bytes())
        (self.root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")

    def write_source(self, path: str, data: bytes) -> None:
        dest = (self.root / "src" / path).resolve()
        dest.relative_to(self.root / "src")  # ValueError for paths escaping src/
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)

    def write_test(self, name: str, code: str) -> str:
        (self.root / "suggested" / name).write_text(code, encoding="utf-8")
        return f"suggested/{name}"

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def scrubbed_env(
    base: Mapping[str, str], sandbox: Path, pythonpath: Sequence[Path], report_fd: int
) -> dict[str, str]:
    """The only variables the sandboxed process sees (nothing secret is ever copied)."""
    closed = "http://127.0.0.1:9"
    env = {
        "PATH": base.get("PATH", os.defpath),
        "LANG": base.get("LANG", "C.UTF-8"),
        "HOME": str(sandbox / "home"),
        "TMPDIR": str(sandbox / "tmp"),
        "PYTHONPATH": os.pathsep.join(str(p) for p in [sandbox / "_rb", *pythonpath]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "PYTHONHASHSEED": "0",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "REVIEWBOT_SANDBOX_DIR": str(sandbox),
        "REVIEWBOT_REPORT_FD": str(report_fd),
        "NO_PROXY": "",
        "no_proxy": "",
    }
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        env[name] = env[name.upper()] = closed
    return env


@cache
def namespaces_available(python: str) -> bool:
    """Whether unshare can build the namespace sandbox here (probed once per process)."""
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return False
    probe = Sandbox()
    try:
        cmd = [
            unshare,
            *UNSHARE_ARGS,
            python,
            str(probe.root / "_rb" / LAUNCHER),
            str(probe.root),
            python,
            "-c",
            "pass",
        ]
        done = subprocess.run(
            cmd, capture_output=True, timeout=10, env={"PATH": os.defpath}, cwd=probe.root
        )
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.close()


_FORK_PROBE = """\
import os, resource, sys
hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
resource.setrlimit(resource.RLIMIT_NPROC, (1, hard))
try:
    pid = os.fork()
except OSError:
    sys.exit(0)
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
sys.exit(3)
"""


@cache
def process_limit_enforced(python: str, namespaces: bool) -> bool:
    """Whether RLIMIT_NPROC stops a fork in the sandbox mode given (probed once): a child
    lowers its own soft limit to one process and tries to fork. Root's processes outside a
    user namespace are exempt, so this is False for ``process`` mode as root."""
    probe = Sandbox()
    try:
        cmd = [python, "-c", _FORK_PROBE]
        if namespaces:
            cmd = [
                shutil.which("unshare") or "unshare",
                *UNSHARE_ARGS,
                python,
                str(probe.root / "_rb" / LAUNCHER),
                str(probe.root),
                *cmd,
            ]
        done = subprocess.run(
            cmd,
            capture_output=True,
            timeout=10,
            env={"PATH": os.defpath},
            cwd=probe.root,
            start_new_session=True,
        )
        return done.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        probe.close()


def describe(namespaces: bool, *, cgroup: bool, rlimit_holds: bool, processes: int) -> str:
    """``RunReport.isolation_detail``: the mode and which process limit holds."""
    if cgroup:
        procs = f"at most {processes} processes (pids cgroup)"
    elif rlimit_holds:
        procs = f"at most {processes} processes more than the user's (RLIMIT_NPROC)"
    else:
        procs = (
            "no process limit (RLIMIT_NPROC does not bind root and no pids cgroup could be made)"
        )
    return f"{NAMESPACES if namespaces else PROCESS}; {procs}"


def run_pytest(
    sandbox: Sandbox,
    args: Sequence[str],
    pythonpath: Sequence[Path],
    limits: Limits,
    *,
    base_env: Mapping[str, str],
    python: str = sys.executable,
    isolation: str = "auto",
    clock: Callable[[], float] = time.monotonic,
) -> RunReport:
    """Run ``python -m pytest ARGS`` in ``sandbox`` and collect its event stream.

    ``isolation``: ``auto`` (namespaces when available), ``namespaces`` or ``process``.
    """
    use_ns = isolation == "namespaces" or (isolation == "auto" and namespaces_available(python))
    cgroup = PidsCgroup.create(limits.extra_processes) if limits.cgroup else None
    report = RunReport(
        isolation="namespaces" if use_ns else "process",
        isolation_detail=describe(
            use_ns,
            cgroup=cgroup is not None,
            rlimit_holds=cgroup is None and process_limit_enforced(python, use_ns),
            processes=limits.extra_processes,
        ),
    )
    try:
        _run(
            sandbox,
            args,
            pythonpath,
            limits,
            report,
            cgroup,
            base_env=base_env,
            python=python,
            use_ns=use_ns,
            clock=clock,
        )
    finally:
        if cgroup is not None:
            if report.killed_for is None and report.stalled is not None and cgroup.limit_hit():
                report.killed_for = PROCESS_LIMIT_KILL
            cgroup.close()
    return report


def _run(
    sandbox: Sandbox,
    args: Sequence[str],
    pythonpath: Sequence[Path],
    limits: Limits,
    report: RunReport,
    cgroup: PidsCgroup | None,
    *,
    base_env: Mapping[str, str],
    python: str,
    use_ns: bool,
    clock: Callable[[], float],
) -> None:
    read_fd, write_fd = os.pipe()
    env = scrubbed_env(base_env, sandbox.root, pythonpath, write_fd)
    cmd = _command(sandbox, args, python, use_ns)
    preexec = limiter(
        limits,
        drop_caps=not use_ns and os.geteuid() == 0,
        cgroup_fd=None if cgroup is None else cgroup.procs_fd,
    )
    start = clock()
    with tempfile.TemporaryFile() as out, not_dumpable():
        try:
            proc = subprocess.Popen(
                cmd,
                cwd=sandbox.root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                start_new_session=True,
                preexec_fn=preexec,
            )
        finally:
            os.close(write_fd)
        try:
            _watch(proc, read_fd, limits, report, clock, start)
        finally:
            os.close(read_fd)
            if proc.poll() is None:
                _kill(proc)
            report.returncode = proc.wait()
            report.seconds = clock() - start
            report.output = _tail(out)


def _command(sandbox: Sandbox, args: Sequence[str], python: str, use_ns: bool) -> list[str]:
    """pytest with the event plugin, in the sandbox's own namespaces when ``use_ns``."""
    cmd = [
        python,
        "-m",
        "pytest",
        "-p",
        PLUGIN,
        "-p",
        "no:cacheprovider",
        "-c",
        "pytest.ini",
        "--rootdir",
        ".",
        "--import-mode=importlib",
        "--basetemp",
        "tmp/pytest",
        "-q",
        "--no-header",
        *args,
    ]
    if use_ns:
        unshare = shutil.which("unshare") or "unshare"
        cmd = [
            unshare,
            *UNSHARE_ARGS,
            python,
            str(sandbox.root / "_rb" / LAUNCHER),
            str(sandbox.root),
            *cmd,
        ]
    return cmd


def _tail(out: IO[bytes]) -> str:
    """The last ``_OUTPUT_TAIL`` bytes of the run's output."""
    out.seek(0, os.SEEK_END)
    out.seek(max(0, out.tell() - _OUTPUT_TAIL))
    return out.read().decode("utf-8", "replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _watch(
    proc: subprocess.Popen[bytes],
    fd: int,
    limits: Limits,
    report: RunReport,
    clock: Callable[[], float],
    start: float,
) -> None:
    """Read events until the pipe closes; kill the run on a stall or the total limit."""
    buf = b""
    current: str | None = None
    since = start
    grace = _STARTUP_GRACE
    eof = False
    while not eof:
        now = clock()
        limit = since + limits.timeout + grace
        if now - start > limits.total or now > limit:
            report.stalled = current
            report.killed_after = now - since
            _kill(proc)
            return
        ready, _, _ = select.select([fd], [], [], min(0.2, max(0.01, limit - now)))
        if not ready:
            if proc.poll() is not None and not _pending(fd):
                break
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            eof = True
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            kind = event.get("ev")
            if kind == "limit":
                blamed = event.get("nodeid") or current
                report.stalled = None if blamed is None else str(blamed)
                report.killed_for = PROCESS_LIMIT_KILL
                report.killed_after = clock() - since
                _kill(proc)
                return
            report.events.append(event)
            if kind == "collect" or kind == "start":
                current = str(event.get("file") or event.get("nodeid"))
                since, grace = clock(), 0.0
            elif kind in ("collected", "finish", "items"):
                current = None
                since, grace = clock(), 0.0


def _pending(fd: int) -> bool:
    ready, _, _ = select.select([fd], [], [], 0)
    return bool(ready)
