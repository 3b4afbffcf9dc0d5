from django.urls import path

from apps.paths import views

app_name = "paths"

urlpatterns = [
    path("", views.path_list, name="list"),
    path("<uuid:pk>/", views.path_detail, name="detail"),
    path("<uuid:pk>/certificate/", views.certificate, name="certificate"),
    path("<uuid:pk>/leaderboard/", views.leaderboard, name="leaderboard"),
    path("certificates/<uuid:pk>/", views.certificate_verify, name="certificate_verify"),
    path("certificates/<uuid:pk>/certificate.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("playlists/new/", views.playlist_create, name="playlist_create"),
    path("playlists/add/", views.playlist_add, name="playlist_add"),
    path("playlists/<uuid:pk>/", views.playlist_detail, name="playlist_detail"),
    path("playlists/<uuid:pk>/share/", views.playlist_share, name="playlist_share"),
    path("playlists/<uuid:pk>/delete/", views.playlist_delete, name="playlist_delete"),
    path("playlists/<uuid:pk>/items/<int:item_pk>/move/", views.playlist_item_move, name="playlist_item_move"),
    path("playlists/<uuid:pk>/items/<int:item_pk>/remove/", views.playlist_item_remove, name="playlist_item_remove"),
]
