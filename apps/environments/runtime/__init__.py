"""Pluggable environment runtimes, chosen like Django's email backends.

``get_runtime()`` loads the class named by ``settings.RANGEX_RUNTIME_BACKEND`` on first use
and keeps one instance per dotted path. Only the backend modules import an engine SDK.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.utils.module_loading import import_string

from apps.environments.runtime.base import (
    FileSpec,
    LaunchResult,
    LaunchSpec,
    MachineHandle,
    MachineSpec,
    ManagedResource,
    NetworkSpec,
    Progress,
    Runtime,
    RuntimeFailure,
    Terminal,
)

__all__ = [
    "FileSpec",
    "LaunchResult",
    "LaunchSpec",
    "MachineHandle",
    "MachineSpec",
    "ManagedResource",
    "NetworkSpec",
    "Progress",
    "Runtime",
    "RuntimeFailure",
    "Terminal",
    "get_runtime",
]

_instances: dict[str, Runtime] = {}
_lock = threading.Lock()


def get_runtime(name: str | None = None) -> Runtime:
    """Return the shared runtime for a dotted path (default: settings.RANGEX_RUNTIME_BACKEND)."""
    path = name or settings.RANGEX_RUNTIME_BACKEND
    with _lock:
        runtime = _instances.get(path)
        if runtime is None:
            try:
                backend = import_string(path)
            except ImportError as exc:
                raise RuntimeFailure(f"Runtime backend {path!r} cannot be loaded: {exc}", permanent=True) from exc
            runtime = _instances[path] = backend()
        return runtime
