"""The request id follows the work a request starts: into Celery tasks and through WebSocket consumers.

A task sent while a request id is current carries it in the ``rangex_request_id`` message header; the
worker makes it current while the task runs, so the task's log lines carry the request's id. A task
sent by beat has none and uses its task id. A WebSocket connection takes the id from its handshake's
``X-Request-ID`` header or makes one up, and keeps it for every message of the connection.
"""

from __future__ import annotations

import contextlib

from rangex.core.context import current_request_id, request_id_from, reset_request_context, set_request_id

HEADER = "rangex_request_id"
_tokens: dict[str, object] = {}


def task_publish_request_id(sender=None, headers=None, **kwargs) -> None:
    """``before_task_publish``: put the current request id into the message's headers."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(HEADER, request_id)


def task_request_id_start(sender=None, task_id=None, task=None, **kwargs) -> None:
    """``task_prerun``: make the message's request id (or the task id) current while the task runs."""
    request = getattr(task, "request", None)
    request_id = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    if not request_id and current_request_id():
        # An eager task runs inside its caller, which already has an id.
        return
    _tokens[task_id] = set_request_id(request_id_from(request_id or task_id))


def task_request_id_end(sender=None, task_id=None, **kwargs) -> None:
    """``task_postrun``: restore the request id that was current before the task."""
    token = _tokens.pop(task_id, None)
    if token is not None:
        # A token made in another context (a pool may finish a task elsewhere) has nothing to restore.
        with contextlib.suppress(ValueError):
            reset_request_context(token)


class WebSocketRequestIdMiddleware:
    """ASGI middleware: one request id per WebSocket connection, current in every handler of its consumer."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers") or [])
        request_id = request_id_from(headers.get(b"x-request-id", b"").decode("latin-1"))
        token = set_request_id(request_id)
        try:
            return await self.inner({**scope, "request_id": request_id}, receive, send)
        finally:
            reset_request_context(token)
