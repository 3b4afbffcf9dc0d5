"""Pluggable lab runtimes, several at once, chosen by a stable key like Django's cache aliases.

Configuration (``rangex/settings.py``):

``RANGEX_DEFAULT_RUNTIME`` (env, default ``"docker"``)
    The key new sessions use.
``RANGEX_RUNTIME_BACKEND`` / ``RANGEX_DOCKER_URL`` (env)
    The class of the default backend and the Docker engine it talks to, as before; they configure
    the default key unless ``RANGEX_RUNTIMES`` declares that key itself.
``RANGEX_RUNTIMES`` (env ``RANGEX_RUNTIMES`` as JSON, e.g. ``{"fake": {"BACKEND":
"apps.runtime.fake.FakeRuntime"}}``)
    Further backends: key -> ``{"BACKEND": dotted path, "OPTIONS": {keyword arguments}}``.

What callers use:

``get_runtime(key=None)``
    The shared backend instance for a key (the default key when None); one instance per process
    and key. A session records ``runtime.key`` when it starts and passes it back on every later
    call (status, pause, terminal, stop, sweeps, health checks). Values stored before keys existed
    (a class name such as ``"DockerRuntime"`` or a dotted path) resolve to the configured key with
    that backend. An unknown key raises ``RuntimeNotConfigured`` (permanent): a session whose key
    was removed from the settings can be shown as such and stopped through another backend.
``configured_runtimes()``
    Every configured key, the default first: sweeps and health checks go through each.
``default_runtime_key()``
    The key a new session records.

Only the backend modules import an engine SDK (``docker``, later ``boto3``); importing this
package does not.
"""

from __future__ import annotations

import os
import re
import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from apps.runtime.base import (
    AccountSpec,
    Capabilities,
    CommandResult,
    FileSpec,
    ForeignResource,
    GatewayHandle,
    LaunchResult,
    LaunchSpec,
    LaunchStage,
    MachineHandle,
    MachineSpec,
    MachineState,
    ManagedResource,
    NetworkHandle,
    NetworkSpec,
    NotReady,
    Progress,
    ProgressMessage,
    ReadyCheck,
    RegistryAuth,
    ResourceKind,
    Runtime,
    RuntimeFailure,
    RuntimeNotConfigured,
    Terminal,
    TerminalTransport,
    image_registry,
    normalize_registry,
)

__all__ = [
    "AccountSpec",
    "Capabilities",
    "CommandResult",
    "FileSpec",
    "ForeignResource",
    "GatewayHandle",
    "LaunchResult",
    "LaunchSpec",
    "LaunchStage",
    "MachineHandle",
    "MachineSpec",
    "MachineState",
    "ManagedResource",
    "NetworkHandle",
    "NetworkSpec",
    "NotReady",
    "Progress",
    "ProgressMessage",
    "ReadyCheck",
    "RegistryAuth",
    "ResourceKind",
    "Runtime",
    "RuntimeFailure",
    "RuntimeNotConfigured",
    "Terminal",
    "TerminalTransport",
    "configured_runtimes",
    "default_runtime_key",
    "get_runtime",
    "image_registry",
    "normalize_registry",
    "resolve_runtime_key",
    "runtime_config",
]

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

_instances: dict[str, Runtime] = {}
_lock = threading.Lock()


def default_runtime_key() -> str:
    return settings.RANGEX_DEFAULT_RUNTIME


def runtime_config() -> dict[str, dict]:
    """Return key -> {"BACKEND", "OPTIONS"} for every configured backend, the default first."""
    default = default_runtime_key()
    declared = dict(getattr(settings, "RANGEX_RUNTIMES", {}) or {})
    config = {default: declared.pop(default, None) or {"BACKEND": settings.RANGEX_RUNTIME_BACKEND, "OPTIONS": {}}}
    config.update(declared)
    for key, entry in config.items():
        if not KEY_RE.match(key):
            raise RuntimeNotConfigured(
                f"Runtime key {key!r} is malformed: use up to 32 lower-case letters, digits, '-' or '_'.", key=key
            )
        if not isinstance(entry, dict) or not isinstance(entry.get("BACKEND"), str):
            raise RuntimeNotConfigured(f"Runtime {key!r} needs a BACKEND dotted path.", key=key)
    return config


def configured_runtimes() -> list[str]:
    """Return every configured runtime key, the default first."""
    return list(runtime_config())


def resolve_runtime_key(value: str | None) -> str:
    """Return the configured key for a key, or for a class name / dotted path stored before keys."""
    config = runtime_config()
    if not value:
        return default_runtime_key()
    if value in config:
        return value
    for key, entry in config.items():
        backend = entry["BACKEND"]
        if value == backend or value == backend.rsplit(".", 1)[-1]:
            return key
    raise RuntimeNotConfigured(f"No runtime {value!r} is configured here (configured: {', '.join(config)}).", key=value)


def get_runtime(key: str | None = None) -> Runtime:
    """Return the shared runtime for a configured key (default: settings.RANGEX_DEFAULT_RUNTIME)."""
    key = resolve_runtime_key(key)
    entry = runtime_config()[key]
    # Keyed by process too: a forked child (a prefork Celery worker, a test server) must not share
    # its parent's engine connections.
    cache_key = f"{os.getpid()}:{key}:{entry['BACKEND']}"
    with _lock:
        runtime = _instances.get(cache_key)
        if runtime is None:
            try:
                backend = import_string(entry["BACKEND"])
            except ImportError as exc:
                raise RuntimeNotConfigured(
                    f"Runtime {key!r}: backend {entry['BACKEND']!r} cannot be loaded: {exc}", key=key
                ) from exc
            try:
                runtime = backend(**(entry.get("OPTIONS") or {}))
            except TypeError as exc:
                raise RuntimeNotConfigured(
                    f"Runtime {key!r}: its OPTIONS do not fit the backend: {exc}", key=key
                ) from exc
            runtime.key = key
            _instances[cache_key] = runtime
        return runtime


def _forget_runtimes(*, setting, **kwargs) -> None:
    """Drop cached runtimes when a test overrides the backends, the engine URL or the instance."""
    if setting.startswith("RANGEX_") and (
        "RUNTIME" in setting or setting in ("RANGEX_DOCKER_URL", "RANGEX_INSTANCE", "RANGEX_ALLOW_FAKE_RUNTIME")
    ):
        with _lock:
            _instances.clear()


setting_changed.connect(_forget_runtimes)
