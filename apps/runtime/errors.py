"""The runtime's one error family: ``RuntimeFailure`` and the cases a caller may treat apart."""

from __future__ import annotations


class RuntimeFailure(Exception):
    """A runtime operation failed; ``permanent`` tells the caller whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class RuntimeNotConfigured(RuntimeFailure):
    """No backend is configured under this key (or it cannot be loaded); always permanent."""

    def __init__(self, message: str, *, key: str = ""):
        super().__init__(message, permanent=True)
        self.key = key


class NotReady(RuntimeFailure):
    """A machine did not pass its ready check in time, or exited before it did."""

    def __init__(self, message: str, *, machine: str, permanent: bool = False):
        super().__init__(message, permanent=permanent)
        self.machine = machine


class ForeignResource(RuntimeFailure):
    """A resource carries another install's instance label (or none): this install never removes it."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)
