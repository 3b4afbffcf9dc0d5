from django.urls import path

from apps.events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("<uuid:pk>/", views.event_detail, name="detail"),
    path("<uuid:pk>/register/", views.event_register, name="register"),
    path("<uuid:pk>/withdraw/", views.event_withdraw, name="withdraw"),
    path("<uuid:pk>/announcements/", views.event_announcements, name="announcements"),
    path("<uuid:pk>/challenges/", views.event_board, name="board"),
    path("<uuid:pk>/challenges/<uuid:version_id>/play/", views.event_play, name="play"),
    path("<uuid:pk>/challenges/<uuid:version_id>/answer/", views.event_answer, name="answer"),
    path("<uuid:pk>/challenges/<uuid:version_id>/hint/", views.event_hint, name="hint"),
    path("<uuid:pk>/scoreboard/", views.event_scoreboard, name="scoreboard"),
    path("<uuid:pk>/scoreboard.json", views.event_scoreboard_json, name="scoreboard_json"),
]
