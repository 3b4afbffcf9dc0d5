"""Hooks: how a lower app lets higher apps react, without importing them.

A lower app declares a ``Hook`` in its ``hooks.py`` and calls it where the thing happens (a
session completed, a solve was recorded). A higher app registers its receivers in its
``AppConfig.ready()``. The lower app never knows who listens, so imports keep running downwards.
Receivers run in registration order, synchronously, inside the caller's transaction; a receiver
that has slow work schedules it on commit itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Hook:
    """A named extension point with an ordered list of receivers."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.__doc__ = doc
        self._receivers: list[Callable[..., Any]] = []

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self._receivers)} receiver(s)>"

    def register(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        """Add ``receiver`` once (registering again is a no-op); usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def unregister(self, receiver: Callable[..., Any]) -> None:
        """Remove ``receiver`` if registered (tests that add a receiver for one case use this)."""
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Callable[..., Any], ...]:
        return tuple(self._receivers)

    def send(self, **kwargs: Any) -> list[Any]:
        """Call every receiver with ``kwargs``; return their results in order."""
        return [receiver(**kwargs) for receiver in self._receivers]

    def any(self, **kwargs: Any) -> bool:
        """Return True as soon as one receiver returns a truthy value."""
        return any(receiver(**kwargs) for receiver in self._receivers)

    def first(self, **kwargs: Any) -> Any:
        """Return the first result that is not None, or None."""
        for receiver in self._receivers:
            result = receiver(**kwargs)
            if result is not None:
                return result
        return None
