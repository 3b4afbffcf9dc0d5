"""The OpenAPI schema documents the errors each endpoint really answers, in the one error shape.

``AutoSchema`` (``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``) adds the shared error responses to
every operation, derived from what the operation is: every request may be throttled (429), meet
maintenance mode (503) or carry a bad token (401); writes and signed-in operations may be refused
(403); path parameters may name nothing visible (404), and so may a page number; a body may be
invalid (400), too large (413) or of another type (415). An operation adds the errors of its
own services (409 for a state conflict, 404 for an id in the body) with ``extend_schema(responses=
{409: ERROR})``; codes it declares itself are kept as declared.
"""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import SAFE_METHODS, AllowAny

from rangex.core.api import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "The request is malformed or fails validation (validation_failed, parse_error, malformed_request).",
    401: "No valid credentials, or a token that is malformed, expired or revoked.",
    403: "Not allowed for this account, or a session-authenticated write without its CSRF token.",
    404: "No such object, or none this account may see.",
    409: "The object is not in a state that allows this (conflict, invalid_transition).",
    413: "The request body is larger than the server accepts (request_too_large).",
    415: "The body is not JSON, a form or multipart (unsupported_media_type).",
    429: "Too many requests of this kind (throttled, see Retry-After), or a configured limit is reached.",
    503: "RangeX is in maintenance mode, or a service it needs is unavailable.",
}

# ``extend_schema(responses={409: ERROR})`` for the errors of an operation's own services.
ERROR = OpenApiResponse(ErrorSerializer, description="An error; see the code and message.")


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Return documented error responses for ``codes``, to merge into ``extend_schema(responses=...)``."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


class AutoSchema(SpectacularAutoSchema):
    def error_status_codes(self) -> set[int]:
        """Return the error codes this operation can answer, from its method, path, body and permissions."""
        codes = {401, 429, 503}
        view = self.view
        anonymous_ok = all(isinstance(p, AllowAny) for p in view.get_permissions())
        if self.method not in SAFE_METHODS or not anonymous_ok:
            codes.add(403)
        if "{" in self.path:
            codes.add(404)
        if self.method == "GET" and getattr(view, "pagination_class", None) is not None:
            # A page number past the end, or not a number.
            codes.add(404)
        if self.get_override_parameters():
            codes.add(400)
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes.update({400, 413, 415})
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in sorted(self.error_status_codes()):
            if str(code) not in responses:
                response = self._get_response_for_code(ErrorSerializer, str(code), direction=direction)
                response["description"] = ERROR_DESCRIPTIONS[code]
                responses[str(code)] = response
        return responses
