from django.urls import path

from apps.environments import views

app_name = "environments"

urlpatterns = [
    path("", views.session_list, name="session_list"),
    path("start/<uuid:version_id>/", views.session_start, name="start"),
    path("preview/<uuid:version_id>/start/", views.session_preview_start, name="preview_start"),
    path("reviews/", views.review_list, name="reviews"),
    path("<uuid:pk>/review/", views.review_decide, name="review"),
    path("<uuid:pk>/", views.session_detail, name="detail"),
    path("<uuid:pk>/status/", views.session_status, name="status"),
    path("<uuid:pk>/answer/", views.session_answer, name="answer"),
    path("<uuid:pk>/hint/", views.session_hint, name="hint"),
    path("<uuid:pk>/desktop/<slug:machine>/watch/", views.desktop_watch, name="desktop_watch"),
    path("<uuid:pk>/machines/<slug:machine>/reset/", views.session_machine_reset, name="machine_reset"),
    path("<uuid:pk>/<slug:action>/", views.session_action, name="action"),
]
