"""The kernel's middleware: request context and logging, maintenance mode, ApplicationError pages."""

from __future__ import annotations

import logging
import time

from django.http import JsonResponse
from django.shortcuts import render

from rangex.core.context import RequestContext, request_id_from, reset_request_context, set_request_context
from rangex.core.errors import ApplicationError
from rangex.core.http import client_ip, user_agent, wants_json
from rangex.core.logging import redact
from rangex.core.system import get_settings

request_logger = logging.getLogger("rangex.requests")


# Paths that stay reachable in maintenance mode so staff can sign in and the load balancer can probe.
MAINTENANCE_EXEMPT_PREFIXES = (
    "/static/",
    "/media/",
    "/accounts/login",
    "/accounts/2fa/",
    "/accounts/logout",
    "/healthz",
    "/admin/",
    "/metrics",
)


class RequestContextMiddleware:
    """Remember the client address for audit rows and the request id for logs; log requests when asked.

    The request id is the client's (or proxy's) ``X-Request-ID`` when well formed, else a new one; the
    response carries it back in ``X-Request-ID``.

    A logged line holds method, path, status, duration and user id: never the query string,
    headers or body, where tokens, passwords and answers travel.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from(request.headers.get("X-Request-ID"))
        request.request_id = request_id
        token = set_request_context(
            RequestContext(ip=client_ip(request), user_agent=user_agent(request), request_id=request_id)
        )
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if get_settings().enable_request_logging and not request.path.startswith("/static/"):
                user = getattr(request, "user", None)
                request_logger.info(
                    "%s %s %s %.1fms user=%s",
                    request.method,
                    redact(request.path),
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                    getattr(user, "pk", None) if user is not None and user.is_authenticated else "-",
                )
        finally:
            reset_request_context(token)
        return response


class MaintenanceModeMiddleware:
    """In maintenance mode everyone but staff gets a 503 carrying the admin's message."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        system = get_settings()
        if not system.maintenance_active or request.path.startswith(MAINTENANCE_EXEMPT_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.is_staff:
            return self.get_response(request)
        messages = system.maintenance_messages
        if wants_json(request):
            response = JsonResponse({"error": {"code": "maintenance", "message": " ".join(messages)}}, status=503)
        else:
            response = render(request, "maintenance.html", {"messages": messages}, status=503)
        response["Retry-After"] = "300"
        # An expected answer, not a server error: Django would log every 503 as an error.
        response._has_been_logged = True
        request_logger.info("maintenance: 503 for %s %s", request.method, redact(request.path))
        return response


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        if wants_json(request):
            response = JsonResponse({"error": exception.as_dict()}, status=exception.status_code)
        elif getattr(request, "htmx", False):
            response = render(request, "partials/error.html", {"error": exception}, status=exception.status_code)
        else:
            response = render(request, "error.html", {"error": exception}, status=exception.status_code)
        for name, value in exception.headers.items():
            response[name] = value
        return response
