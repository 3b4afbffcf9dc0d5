from django.urls import path

from apps.teams import views

app_name = "teams"

urlpatterns = [
    path("", views.team_list, name="list"),
    path("new/", views.team_create, name="create"),
    path("<uuid:pk>/", views.team_detail, name="detail"),
    path("<uuid:pk>/join/", views.team_join, name="join"),
    path("<uuid:pk>/leave/", views.team_leave, name="leave"),
    path("<uuid:pk>/kick/<uuid:user_id>/", views.team_kick, name="kick"),
    path("<uuid:pk>/transfer/<uuid:user_id>/", views.team_transfer, name="transfer"),
    path("requests/<int:request_id>/<slug:decision>/", views.join_request_decide, name="decide"),
    path("<uuid:pk>/invitations/", views.invitation_create, name="invitation_create"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("invite/", views.invitation_by_code, name="invitation_code"),
    path("invite/<str:code>/", views.invitation_accept, name="invitation"),
]
