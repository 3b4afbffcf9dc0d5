from django.urls import path

from apps.paths import api

urlpatterns = [
    path("paths/", api.PathListApi.as_view(), name="api-paths"),
    path("paths/<uuid:pk>/", api.PathDetailApi.as_view(), name="api-path"),
    path("playlists/", api.PlaylistListApi.as_view(), name="api-playlists"),
    path("playlists/<uuid:pk>/", api.PlaylistDetailApi.as_view(), name="api-playlist"),
    path("playlists/<uuid:pk>/items/", api.PlaylistItemsApi.as_view(), name="api-playlist-items"),
    path("playlists/<uuid:pk>/items/<int:item_pk>/", api.PlaylistItemApi.as_view(), name="api-playlist-item"),
]
