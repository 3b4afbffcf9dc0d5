from django.urls import path

from apps.events.consumers import ScoreboardConsumer

websocket_urlpatterns = [
    path("ws/events/<uuid:event_id>/scoreboard/", ScoreboardConsumer.as_asgi()),
]
