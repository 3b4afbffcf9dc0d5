"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Every WebSocket passes an exact Origin check (scheme, host and port against this site and
CSRF_TRUSTED_ORIGINS: the WebSocket form of CSRF protection, ``rangex.core.origins``) and is
authenticated from the Django session. Each connection has a request id for its log lines.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rangex.core.origins import OriginValidator  # noqa: E402
from rangex.core.request_ids import WebSocketRequestIdMiddleware  # noqa: E402
from rangex.embedded_beat import embedded_beat_start  # noqa: E402
from rangex.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebSocketRequestIdMiddleware(
            OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
        ),
    }
)

# The embedded default has no beat process: its web process runs the periodic schedule.
embedded_beat_start()
