"""One JSON error shape for the whole API.

Every error answers ``{"error": {"code": ..., "message": ..., "fields": {...}}}``; some errors add
keys of their own (``limit``, ``retry_after``). ``ErrorSerializer`` describes it in the OpenAPI schema.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from rangex.core.errors import ApplicationError
from rangex.core.http import request_error_for


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="A stable, machine-readable reason, e.g. validation_failed.")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field, for validation errors.",
    )


class ErrorSerializer(serializers.Serializer):
    """The body of every error response."""

    error = ErrorDetailSerializer()


def _application_error_response(exc: ApplicationError) -> Response:
    return Response({"error": exc.as_dict()}, status=exc.status_code, headers=exc.headers or None)


def validation_error_fields(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(m) for m in error.messages]}


def _flatten_drf(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            if isinstance(value, dict):
                for sub_key, sub_value in _flatten_drf(value).items():
                    out[f"{key}.{sub_key}"] = sub_value
            elif isinstance(value, list):
                out[key] = [str(v) for v in value]
            else:
                out[key] = [str(value)]
        return out
    if isinstance(detail, list):
        return {"non_field_errors": [str(v) for v in detail]}
    return {"non_field_errors": [str(detail)]}


def _first_message(fields: dict[str, list[str]], default: str) -> str:
    for field, messages in fields.items():
        if messages:
            return messages[0] if field == "non_field_errors" else f"{field}: {messages[0]}"
    return default


def exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        return _application_error_response(exc)
    request_error = request_error_for(exc)
    if request_error is not None:
        return _application_error_response(request_error)
    if isinstance(exc, DjangoValidationError):
        fields = validation_error_fields(exc)
        body = {"code": "validation_failed", "message": _first_message(fields, _("Invalid input.")), "fields": fields}
        return Response({"error": body}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten_drf(exc.detail)
        body = {"code": "validation_failed", "message": _first_message(fields, _("Invalid input.")), "fields": fields}
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"code": code, "message": str(detail)}
    response.data = {"error": body}
    return response
