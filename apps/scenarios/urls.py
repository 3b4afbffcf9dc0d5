from django.urls import path

from apps.scenarios import download_views, views

app_name = "scenarios"

urlpatterns = [
    path("", views.catalog_page, name="catalog"),
    path("favorites/", views.favorites_page, name="favorites"),
    path("preview/<uuid:version_id>/", views.preview_page, name="preview"),
    path("downloads/<str:kind>/<int:pk>/", download_views.download, name="download"),
    path("library/<uuid:pk>/file/", download_views.library_file, name="library-file"),
    path("<slug:slug>/", views.detail_page, name="detail"),
    path("<slug:slug>/rate/", views.rate, name="rate"),
    path("<slug:slug>/favorite/", views.favorite, name="favorite"),
]
