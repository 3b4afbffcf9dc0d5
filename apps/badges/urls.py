from django.urls import path

from apps.badges import views

app_name = "badges"

urlpatterns = [
    path("", views.badge_list, name="list"),
    path("<uuid:pk>/", views.badge_detail, name="detail"),
    path("me/", views.my_profile, name="me"),
    path("users/<uuid:pk>/", views.profile, name="profile"),
]
