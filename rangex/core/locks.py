"""A short Redis lock so one periodic pass runs at a time across workers.

The lock is an optimisation, not the guarantee: every reconciler also changes rows with
conditional updates, so two passes that overlap (a lock that expired under a killed worker)
still act once per row.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from django.core.cache import cache


@contextlib.contextmanager
def single_flight(name: str, *, ttl_seconds: int = 300) -> Iterator[bool]:
    """Yield True when this caller holds the lock ``name``; False when another holder runs."""
    key = f"ops:lock:{name}"
    token = secrets.token_hex(8)
    acquired = cache.add(key, token, ttl_seconds)
    try:
        yield acquired
    finally:
        if acquired and cache.get(key) == token:
            cache.delete(key)
