from django.urls import path

from apps.badges import api

urlpatterns = [
    path("badges/", api.BadgeListApi.as_view(), name="api-badges"),
    path("badges/<uuid:pk>/", api.BadgeDetailApi.as_view(), name="api-badge"),
    path("me/badges/", api.MyBadgesApi.as_view(), name="api-my-badges"),
    path("users/<uuid:pk>/badges/", api.UserBadgesApi.as_view(), name="api-user-badges"),
]
