from django.urls import path

from apps.scenarios.consumers import TestRunConsumer

websocket_urlpatterns = [
    path("ws/test-runs/<uuid:run_id>/", TestRunConsumer.as_asgi()),
]
