"""Django's error handlers (``handler400``, ``handler403``, ``handler404``, ``handler500``): JSON on the API, pages
elsewhere.

Django calls these for what happens outside a view's own error handling: a body over
``DATA_UPLOAD_MAX_MEMORY_SIZE`` read by a middleware, an unknown URL, a crash. The API answers in
the project's one error shape (``rangex.core.api``); pages show the reason.
"""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views import defaults

from rangex.core.errors import ApplicationError, MalformedRequest, NotFound, PermissionDenied
from rangex.core.http import request_error_for, wants_json


def _error_response(request, error: ApplicationError):
    if wants_json(request):
        response = JsonResponse({"error": error.as_dict()}, status=error.status_code)
    else:
        response = render(request, "error.html", {"error": error}, status=error.status_code)
    for name, value in error.headers.items():
        response[name] = value
    return response


def bad_request(request, exception=None):
    """A request Django could not read: 413 when the body is too large, 400 otherwise, with the reason."""
    error = request_error_for(exception) if exception is not None else None
    return _error_response(request, error or MalformedRequest(_("The request cannot be read.")))


def permission_denied(request, exception=None):
    """Django's PermissionDenied (the admin, a view's own check): the reason in the site's style, never a bare 403."""
    reason = str(exception or "").strip() or _("You do not have access to this page.")
    return _error_response(request, PermissionDenied(reason))


def page_not_found(request, exception=None):
    if wants_json(request):
        return _error_response(request, NotFound(_("No such endpoint.")))
    return defaults.page_not_found(request, exception)


def server_error(request):
    if wants_json(request):
        body = {"error": {"code": "server_error", "message": _("Something went wrong on our side; it was recorded.")}}
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
