from django.urls import path

from apps.events import api

urlpatterns = [
    path("", api.EventListApi.as_view(), name="api-events"),
    path("<uuid:pk>/", api.EventDetailApi.as_view(), name="api-event"),
    path("<uuid:pk>/register/", api.EventRegisterApi.as_view(), name="api-event-register"),
    path("<uuid:pk>/withdraw/", api.EventWithdrawApi.as_view(), name="api-event-withdraw"),
    path("<uuid:pk>/answers/", api.EventAnswerApi.as_view(), name="api-event-answers"),
    path("<uuid:pk>/hints/", api.EventHintApi.as_view(), name="api-event-hints"),
    path("<uuid:pk>/announcements/", api.EventAnnouncementsApi.as_view(), name="api-event-announcements"),
    path("<uuid:pk>/scoreboard/", api.EventScoreboardApi.as_view(), name="api-event-scoreboard"),
]
