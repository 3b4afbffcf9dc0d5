"""The ApplicationError family.

Services raise these for every refusal a user can cause. The API, the admin and the
pages each turn them into a clear message with the status code given here, so bad
input never becomes a bare 500.
"""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"
    # HTTP headers the API and the pages add to the error response.
    headers: dict[str, str] = {}

    def __init__(self, message: str, *, fields: dict[str, list[str]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        if self.extra:
            body.update(self.extra)
        return body


class ValidationFailed(ApplicationError):
    code = "validation_failed"


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"


class Conflict(ApplicationError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class LimitExceeded(ApplicationError):
    """A configured limit refuses the request; ``limit`` names it."""

    status_code = 429
    code = "limit_exceeded"

    def __init__(self, message: str, *, limit: str, **extra: Any):
        super().__init__(message, limit=limit, **extra)
        self.limit = limit


class Throttled(LimitExceeded):
    """Too many requests of one kind from one account or address; ``retry_after`` is in seconds."""

    code = "throttled"

    def __init__(self, message: str, *, limit: str, retry_after: int):
        super().__init__(message, limit=limit, retry_after=retry_after)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class MalformedRequest(ApplicationError):
    """The request itself cannot be read: a broken body, too many fields, a bad header."""

    code = "malformed_request"


class RequestTooLarge(ApplicationError):
    status_code = 413
    code = "request_too_large"


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    code = "unsupported_media_type"


class ServiceUnavailable(ApplicationError):
    status_code = 503
    code = "unavailable"
