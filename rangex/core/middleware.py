"""Turn ApplicationError raised under a page into a clear 4xx page, or JSON for API clients."""

from __future__ import annotations

from django.http import JsonResponse
from django.shortcuts import render

from rangex.core.errors import ApplicationError
from rangex.core.http import wants_json


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        if wants_json(request):
            return JsonResponse({"error": exception.as_dict()}, status=exception.status_code)
        if getattr(request, "htmx", False):
            return render(request, "partials/error.html", {"error": exception}, status=exception.status_code)
        return render(request, "error.html", {"error": exception}, status=exception.status_code)
