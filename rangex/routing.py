"""WebSocket routes of every app, in one list for rangex.asgi."""

from apps.accounts.routing import websocket_urlpatterns as accounts_ws
from apps.environments.routing import websocket_urlpatterns as environments_ws
from apps.events.routing import websocket_urlpatterns as events_ws
from apps.scenarios.routing import websocket_urlpatterns as scenarios_ws

websocket_urlpatterns = [*accounts_ws, *environments_ws, *events_ws, *scenarios_ws]
