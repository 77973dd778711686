"""Network guard for sandboxed test runs; copied into the sandbox as ``sitecustomize.py``.

Python imports ``sitecustomize`` at start-up from PYTHONPATH, so every interpreter started
with the sandbox's environment (pytest and the children it spawns with that environment)
refuses, at the ``socket`` module level: connections and datagrams to anything but a
loopback port this process bound itself (so a test may talk to a server it starts, never to
a service of the host such as redis or the model server), Unix sockets outside the sandbox
directory, and name lookups of anything but localhost. It is a second line behind a
network namespace (when the system allows one); alone it is bypassable by native code,
``_socket`` and programs that are not Python (see README "Test suggestions").

Standalone on purpose: it must not import reviewbot.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any

_ROOT = os.environ.get("REVIEWBOT_SANDBOX_DIR", "")
_LOCAL_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
_OWN_PORTS: set[int] = set()


def _loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _allowed(family: int, address: Any) -> bool:
    if family == getattr(socket, "AF_UNIX", -1):
        path = os.fsdecode(address) if isinstance(address, str | bytes) else ""
        return bool(_ROOT) and os.path.realpath(path).startswith(_ROOT + os.sep)
    if (
        family in (socket.AF_INET, socket.AF_INET6)
        and isinstance(address, tuple)
        and (len(address) >= 2)
    ):
        return _loopback(address[0]) and address[1] in _OWN_PORTS
    return False


def _deny(what: str, address: Any) -> PermissionError:
    return PermissionError(
        f"network access is blocked in reviewbot's test sandbox ({what} {address!r})"
    )


_bind = socket.socket.bind
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_sendto = socket.socket.sendto
_getaddrinfo = socket.getaddrinfo
_gethostbyname = socket.gethostbyname
_gethostbyname_ex = socket.gethostbyname_ex


def bind(self: socket.socket, address: Any) -> None:
    _bind(self, address)
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _OWN_PORTS.add(self.getsockname()[1])


def connect(self: socket.socket, address: Any) -> None:
    if not _allowed(self.family, address):
        raise _deny("connect to", address)
    _connect(self, address)


def connect_ex(self: socket.socket, address: Any) -> int:
    if not _allowed(self.family, address):
        raise _deny("connect to", address)
    return _connect_ex(self, address)


def sendto(self: socket.socket, data: Any, *args: Any) -> int:
    address = args[-1] if args else None
    if not _allowed(self.family, address):
        raise _deny("send to", address)
    return _sendto(self, data, *args)


def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _loopback(host):
        raise _deny("name lookup of", host)
    return _getaddrinfo(host, *args, **kwargs)


def gethostbyname(host: str) -> str:
    if not _loopback(host):
        raise _deny("name lookup of", host)
    return _gethostbyname(host)


def gethostbyname_ex(host: str) -> Any:
    if not _loopback(host):
        raise _deny("name lookup of", host)
    return _gethostbyname_ex(host)


socket.socket.bind = bind  # type: ignore[method-assign,assignment]
socket.socket.connect = connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
socket.socket.sendto = sendto  # type: ignore[assignment]
socket.getaddrinfo = getaddrinfo
socket.gethostbyname = gethostbyname
socket.gethostbyname_ex = gethostbyname_ex
