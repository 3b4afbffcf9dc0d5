"""Exact Origin checks for WebSockets: the CSRF protection of a socket.

A browser sends ``Origin: scheme://host[:port]`` of the page that opens a socket. The socket is
accepted only when that origin is exactly this site as the request reached it (the scheme, the
Host header with its port, both as Django reads them: ``SECURE_PROXY_SSL_HEADER`` and
``USE_X_FORWARDED_HOST``/``PORT`` are honoured behind a TLS proxy, and the host must be in
``ALLOWED_HOSTS``) or is listed in ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.org`` trusts the
subdomains over https), the same rule ``CsrfViewMiddleware`` applies to form posts. Channels'
``AllowedHostsOriginValidator`` compares host names only, so ``http://site:9999`` and
``https://site`` passed for a site on ``http://site:8001``.
"""

from __future__ import annotations

import io
import logging
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.utils.http import is_same_domain

logger = logging.getLogger(__name__)

# Closed before accept with a code of its own, so a proxy that rewrites Host or the scheme shows up
# as such; the page's socket helper does not retry 4xxx codes.
ORIGIN_REFUSED_CODE = 4003


def _site_origin(scope) -> str | None:
    """Return ``scheme://host[:port]`` of this site as the socket's handshake reached it, or None."""
    # Django reads the scheme and the host of an HTTP request; the handshake is one (ws -> http).
    scheme = "https" if scope.get("scheme") in ("wss", "https") else "http"
    http_scope = {**scope, "type": "http", "method": "GET", "scheme": scheme}
    request = ASGIRequest(http_scope, io.BytesIO())
    try:
        return f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        return None


def origin_allowed(scope) -> bool:
    """Return whether the WebSocket handshake in ``scope`` comes from a page of this site."""
    origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
    if len(origins) != 1:
        return False
    try:
        origin = origins[0].decode("ascii")
    except UnicodeDecodeError:
        return False
    if origin == _site_origin(scope):
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, pattern.netloc.lstrip("*"))
        for pattern in (urlsplit(entry) for entry in trusted if "*" in entry)
        if pattern.scheme == parsed.scheme
    )


class OriginValidator:
    """ASGI middleware: refuse a WebSocket whose Origin is not exactly this site (see module docs)."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            logger.warning("WebSocket refused: origin not allowed for %s", scope.get("path"))
            # Take the connect message, then refuse before accepting.
            await receive()
            await send({"type": "websocket.close", "code": ORIGIN_REFUSED_CODE})
            return None
        return await self.application(scope, receive, send)
