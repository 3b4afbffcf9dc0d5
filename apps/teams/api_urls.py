from django.urls import path

from apps.teams import api

urlpatterns = [
    path("", api.TeamListApi.as_view(), name="api-teams"),
    path("<uuid:pk>/join/", api.TeamJoinApi.as_view(), name="api-team-join"),
    path("<uuid:pk>/leave/", api.TeamLeaveApi.as_view(), name="api-team-leave"),
    path("<uuid:pk>/invitations/", api.TeamInvitationApi.as_view(), name="api-team-invitations"),
    path("invitations/<str:code>/accept/", api.InvitationAcceptApi.as_view(), name="api-team-invitation-accept"),
    path(
        "requests/<int:request_id>/approve/",
        api.JoinRequestDecideApi.as_view(decision="approve"),
        name="api-team-approve",
    ),
    path(
        "requests/<int:request_id>/decline/",
        api.JoinRequestDecideApi.as_view(decision="decline"),
        name="api-team-decline",
    ),
    path(
        "requests/<int:request_id>/cancel/",
        api.JoinRequestDecideApi.as_view(decision="cancel"),
        name="api-team-cancel",
    ),
]
