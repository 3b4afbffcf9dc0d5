"""Small request helpers."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _


def client_ip(request) -> str | None:
    """Return the client's address, trusting X-Forwarded-For only behind configured proxies."""
    meta = getattr(request, "META", None)
    if meta is None:  # a Channels scope
        client = request.get("client") or (None, None)
        return client[0]
    proxies = settings.RANGEX_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return meta.get("REMOTE_ADDR") or None


def user_agent(request) -> str:
    meta = getattr(request, "META", None)
    if meta is None:
        headers = dict(request.get("headers") or [])
        return headers.get(b"user-agent", b"").decode("latin-1")[:512]
    return meta.get("HTTP_USER_AGENT", "")[:512]


def wants_json(request) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return request.path.startswith("/api/") or ("application/json" in accept and "text/html" not in accept)


def safe_next_url(request, default: str = "home") -> str:
    """Return the ``next`` the request names when it stays on this site, else the URL named ``default``."""
    from django.urls import reverse
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(default)


def request_error_for(exc: BaseException):
    """Return the ApplicationError that says why Django could not read a request, or None.

    Django raises these while reading a body or a header (``RequestDataTooBig`` past
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``, ``TooManyFieldsSent``, a broken multipart body, a bad Host); the
    API and the pages turn the result into the project's error shape or an error page.
    """
    from django.core.exceptions import (
        BadRequest,
        DisallowedHost,
        RequestDataTooBig,
        SuspiciousOperation,
        TooManyFieldsSent,
        TooManyFilesSent,
    )
    from django.http.multipartparser import MultiPartParserError

    from rangex.core.errors import MalformedRequest, RequestTooLarge

    if isinstance(exc, RequestDataTooBig):
        megabytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE / (1024 * 1024)
        return RequestTooLarge(
            _("The request body is larger than %(megabytes)s MB; send less at once.")
            % {"megabytes": format(megabytes, "g")}
        )
    if isinstance(exc, TooManyFieldsSent):
        return MalformedRequest(
            _("The request has more than %(DATA_UPLOAD_MAX_NUMBER_FIELDS)s fields.")
            % {"DATA_UPLOAD_MAX_NUMBER_FIELDS": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
        )
    if isinstance(exc, TooManyFilesSent):
        return MalformedRequest(
            _("The request has more than %(DATA_UPLOAD_MAX_NUMBER_FILES)s files.")
            % {"DATA_UPLOAD_MAX_NUMBER_FILES": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
        )
    if isinstance(exc, MultiPartParserError):
        return MalformedRequest(_("The multipart body cannot be read."))
    if isinstance(exc, DisallowedHost):
        return MalformedRequest(_("The Host header names a site this server does not serve."))
    if isinstance(exc, BadRequest):
        return MalformedRequest(str(exc) or _("The request cannot be read."))
    if isinstance(exc, SuspiciousOperation):
        # Django's message may describe the server's configuration; say only what was refused.
        return MalformedRequest(_("The request was refused as malformed."))
    return None
