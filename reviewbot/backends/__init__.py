"""Backend registry: name -> factory. Modules are imported only when chosen."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewbot.errors import ConfigError

if TYPE_CHECKING:
    from reviewbot.backends.base import Backend
    from reviewbot.config import Config

# name -> "module:factory"; each factory is (config, **injected) -> Backend.
REGISTRY: dict[str, str] = {
    "static": "reviewbot.backends.static:StaticBackend",
    "vllm": "reviewbot.backends.openai_http:make_vllm",
    "openai": "reviewbot.backends.openai_http:make_openai",
    "local": "reviewbot.backends.local:make_local",
    "vllm-offline": "reviewbot.backends.vllm_offline:make_vllm_offline",
}
BACKEND_NAMES: tuple[str, ...] = tuple(REGISTRY)
"""The ``backend`` values config and the ``--backend`` flags accept, in the registry's order."""


def create_backend(config: Config, **injected: Any) -> Backend:
    """Build the backend the config chooses. ``injected`` passes I/O edges (http client)."""
    name = config.effective_backend()
    target = REGISTRY.get(name)
    if target is None:
        raise ConfigError(f"unknown backend {name!r}", hint="choose one of " + ", ".join(REGISTRY))
    module, attr = target.split(":")
    factory: Callable[..., Backend] = getattr(importlib.import_module(module), attr)
    if name == "static":
        return factory()
    return factory(config, **injected)
