"""Pluggable environment runtimes, chosen like Django's email backends.

``get_runtime()`` loads the class named by ``settings.RANGEX_RUNTIME_BACKEND`` on first use
and keeps one instance per dotted path. Only the backend modules import an engine SDK.
"""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from apps.runtime.base import (
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
    # Keyed by process too: a forked child (a prefork Celery worker, a test server) must not share
    # its parent's engine connections.
    key = f"{os.getpid()}:{path}"
    with _lock:
        runtime = _instances.get(key)
        if runtime is None:
            try:
                backend = import_string(path)
            except ImportError as exc:
                raise RuntimeFailure(f"Runtime backend {path!r} cannot be loaded: {exc}", permanent=True) from exc
            runtime = _instances[key] = backend()
        return runtime


def _forget_runtimes(*, setting, **kwargs) -> None:
    """Drop cached runtimes when a test overrides the backend or the engine URL."""
    if setting in ("RANGEX_RUNTIME_BACKEND", "RANGEX_DOCKER_URL", "RANGEX_INSTANCE"):
        with _lock:
            _instances.clear()


setting_changed.connect(_forget_runtimes)
