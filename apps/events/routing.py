from django.urls import path

from apps.events.consumers import AnnouncementConsumer, ScoreboardConsumer

websocket_urlpatterns = [
    path("ws/events/<uuid:event_id>/scoreboard/", ScoreboardConsumer.as_asgi()),
    path("ws/events/<uuid:event_id>/announcements/", AnnouncementConsumer.as_asgi()),
]
