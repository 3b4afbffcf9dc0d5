from django.urls import path

from apps.badges import views

app_name = "badges"

urlpatterns = [
    path("", views.badge_list, name="list"),
    path("<uuid:pk>/", views.badge_detail, name="detail"),
    path("me/", views.my_profile, name="me"),
    path("users/<uuid:pk>/", views.profile, name="profile"),
    path("issuer/", views.issuer, name="issuer"),
    path("issuer/jwks.json", views.jwks, name="jwks"),
    path("credentials/<str:ref>/", views.credential, name="credential"),
    path("credentials/<str:ref>/credential.jwt", views.credential_jwt, name="credential_jwt"),
    path("credentials/<str:ref>/badge.png", views.credential_png, name="credential_png"),
    path("verify/", views.verify, name="verify"),
]
