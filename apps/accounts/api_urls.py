from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="api-me"),
    path("notifications/", api.NotificationListApi.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationMarkReadApi.as_view(), name="api-notifications-read"),
    path("tokens/", api.TokenListApi.as_view(), name="api-tokens"),
    path("tokens/<uuid:pk>/revoke/", api.TokenRevokeApi.as_view(), name="api-token-revoke"),
]
