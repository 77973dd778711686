"""Optional extras the server needs, checked at start-up with a message that names them.

``reviewbot serve`` and ``reviewbot worker`` need the ``server`` extra; a Redis queue needs
``redis`` too. A missing package is a :class:`~reviewbot.errors.ConfigError` that says which
extra to install, not an internal error from an import deep inside the server.
"""

from __future__ import annotations

import importlib

from reviewbot.errors import ConfigError

EXTRAS: dict[str, tuple[str, ...]] = {
    "server": ("starlette", "uvicorn", "httptools", "huey", "prometheus_client", "jwt"),
    "redis": ("redis",),
}
"""Extra name -> the modules it provides (as imported), as in pyproject.toml."""


def missing_extra(extra: str, what: str, exc: ImportError) -> ConfigError:
    """The error to raise when ``what`` failed to import a module of ``extra``."""
    module = exc.name or str(exc)
    return ConfigError(
        f"{what} needs the '{extra}' extra ({module} is not installed)",
        hint=f"pip install 'reviewbot[{extra}]'",
    )


def require(extra: str, what: str) -> None:
    """Import every module of ``extra``; raise :func:`missing_extra`'s error if one fails."""
    for module in EXTRAS[extra]:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise missing_extra(extra, what, exc) from None
