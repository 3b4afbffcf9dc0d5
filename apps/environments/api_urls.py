from django.urls import path

from apps.environments import api

urlpatterns = [
    path("", api.SessionListApi.as_view(), name="api-sessions"),
    path("reviews/", api.PendingReviewListApi.as_view(), name="api-session-reviews"),
    path("<uuid:pk>/", api.SessionDetailApi.as_view(), name="api-session"),
    path("<uuid:pk>/answers/", api.AnswerApi.as_view(), name="api-session-answers"),
    path("<uuid:pk>/hints/", api.HintApi.as_view(), name="api-session-hints"),
    path("<uuid:pk>/reviews/", api.ReviewApi.as_view(), name="api-session-review"),
    path("<uuid:pk>/pause/", api.SessionPauseApi.as_view(), name="api-session-pause"),
    path("<uuid:pk>/resume/", api.SessionResumeApi.as_view(), name="api-session-resume"),
    path("<uuid:pk>/extend/", api.SessionExtendApi.as_view(), name="api-session-extend"),
    path("<uuid:pk>/stop/", api.SessionStopApi.as_view(), name="api-session-stop"),
]
