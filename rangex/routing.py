"""WebSocket routes of every app, in one list for rangex.asgi."""

from apps.accounts.routing import websocket_urlpatterns as accounts_ws

websocket_urlpatterns = [*accounts_ws]
