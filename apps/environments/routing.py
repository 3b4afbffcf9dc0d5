from django.urls import path

from apps.environments.consumers import SessionEventsConsumer, TerminalConsumer
from apps.environments.desktop_relay import DesktopConsumer

websocket_urlpatterns = [
    path("ws/sessions/<uuid:session_id>/terminal/<slug:machine>/", TerminalConsumer.as_asgi()),
    path("ws/sessions/<uuid:session_id>/desktop/<slug:machine>/", DesktopConsumer.as_asgi()),
    path("ws/sessions/<uuid:session_id>/", SessionEventsConsumer.as_asgi()),
]
