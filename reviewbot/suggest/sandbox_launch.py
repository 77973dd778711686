"""Namespace launcher for sandboxed test runs (Linux; copied into the sandbox and run by
``unshare --user --map-root-user --net --mount --pid --fork --kill-child --mount-proc``).

Usage: ``python reviewbot_sandbox_launch.py WORKDIR PROGRAM [ARGS...]``

Inside the fresh namespaces (no network but loopback, own /proc, own mounts) it:
1. brings the namespace's own loopback up (a test may start a local server) and
   bind-mounts WORKDIR onto itself so it stays writable,
2. remounts every other mount read-only (keeping each mount's locked flags),
3. enters a nested user + mount namespace mapped to a non-root uid, which locks those
   read-only mounts and drops every capability at exec,
4. execs PROGRAM in WORKDIR.
It exits with status 97 when a writable mount cannot be made read-only, so the caller's
probe falls back to process-level limits instead of trusting a half-built sandbox.

Standalone on purpose: it must not import reviewbot.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import socket
import struct
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
_FLAGS = {
    "ro": MS_RDONLY,
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
SIOCSIFFLAGS, IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x8914, 0x1, 0x8, 0x40
SANDBOX_UID = 1000
EXIT_SETUP_FAILED = 97

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source: str, target: str, flags: int) -> None:
    if _libc.mount(source.encode(), target.encode(), None, ctypes.c_ulong(flags), None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {target}: {os.strerror(err)}")


def _unescape(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def _mounts() -> list[tuple[str, int]]:
    """(mount point, per-mount flags) from /proc/self/mountinfo."""
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as fh:
        for line in fh:
            fields = line.split()
            flags = 0
            for opt in fields[5].split(","):
                flags |= _FLAGS.get(opt, 0)
            out.append((_unescape(fields[4]), flags))
    return out


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _loopback_up() -> None:
    """Bring up ``lo`` in the new network namespace (best effort: tests just lose it)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            flags = IFF_UP | IFF_LOOPBACK | IFF_RUNNING
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags, b"\0" * 14))
    except OSError as exc:
        sys.stderr.write(f"reviewbot sandbox: loopback stays down: {exc}\n")


def _write(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as fh:
        fh.write(text)


def main(argv: list[str]) -> int:
    work = os.path.realpath(argv[1])
    program = argv[2:]
    _loopback_up()
    _mount(work, work, MS_BIND | MS_REC)
    for point, flags in _mounts():
        if _under(point, work) or _under(point, "/proc"):
            continue
        try:
            _mount("none", point, MS_REMOUNT | MS_BIND | MS_RDONLY | (flags & ~MS_RDONLY))
        except OSError as exc:
            if not flags & MS_RDONLY:
                sys.stderr.write(f"reviewbot sandbox: cannot make {point} read-only: {exc}\n")
                return EXIT_SETUP_FAILED
    uid, gid = os.geteuid(), os.getegid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
        sys.stderr.write("reviewbot sandbox: cannot enter the nested user namespace\n")
        return EXIT_SETUP_FAILED
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{SANDBOX_UID} {uid} 1")
    _write("/proc/self/gid_map", f"{SANDBOX_UID} {gid} 1")
    os.chdir(work)
    if not program:
        return 0
    os.execve(program[0], program, dict(os.environ))
    return EXIT_SETUP_FAILED  # pragma: no cover - execve does not return


if __name__ == "__main__":
    sys.exit(main(sys.argv))
