"""The current request's actor address (for audit rows written deep inside services) and its request id.

The request id comes from the client's ``X-Request-ID`` (when well formed) or is made up; it follows
the work the request starts into Celery tasks (a message header) and into WebSocket consumers, and
every log record carries it (``rangex.core.logging``).
"""

from __future__ import annotations

import contextvars
import re
import uuid
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar("rangex_request", default=None)


def set_request_context(ctx: RequestContext | None):
    return _current.set(ctx)


def reset_request_context(token) -> None:
    _current.reset(token)


def current_request_context() -> RequestContext:
    return _current.get() or RequestContext()


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_from(value: str | None) -> str:
    """Return ``value`` when it is a well-formed request id (a proxy's), else a new one."""
    if value and _REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


def current_request_id() -> str:
    return current_request_context().request_id


def set_request_id(request_id: str):
    """Set the request id of the current context, keeping the rest; return the token to reset it."""
    return _current.set(replace(current_request_context(), request_id=request_id))
