"""The current request's actor address, for audit rows written deep inside services."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("rangex_request", default=None)


def set_request_context(ctx: RequestContext | None):
    return _current.set(ctx)


def reset_request_context(token) -> None:
    _current.reset(token)


def current_request_context() -> RequestContext:
    return _current.get() or RequestContext()
