from django.urls import path

from apps.scenarios import api, api_library, api_testing

urlpatterns = [
    path("scenarios/", api.CatalogListApi.as_view(), name="api-catalog"),
    path("scenarios/<slug:slug>/", api.CatalogDetailApi.as_view(), name="api-catalog-detail"),
    path("scenarios/<slug:slug>/rating/", api.RatingApi.as_view(), name="api-scenario-rating"),
    path("scenarios/<slug:slug>/favorite/", api.FavoriteApi.as_view(), name="api-scenario-favorite"),
    path("creator/versions/", api.CreatorVersionListApi.as_view(), name="api-creator-versions"),
    path("creator/imports/", api.CreatorImportApi.as_view(), name="api-creator-imports"),
    path("creator/versions/<uuid:pk>/", api.CreatorVersionDetailApi.as_view(), name="api-creator-version"),
    path("creator/assets/", api_library.AssetListApi.as_view(), name="api-creator-assets"),
    path("creator/assets/<uuid:pk>/", api_library.AssetDetailApi.as_view(), name="api-creator-asset"),
    path(
        "creator/versions/<uuid:pk>/library-assets/",
        api_library.VersionAttachApi.as_view(),
        name="api-creator-version-attach",
    ),
    path(
        "creator/versions/<uuid:pk>/library-assets/<int:link_pk>/",
        api_library.VersionDetachApi.as_view(),
        name="api-creator-version-detach",
    ),
    path(
        "creator/versions/<uuid:pk>/submit/", api.CreatorVersionSubmitApi.as_view(), name="api-creator-version-submit"
    ),
    path("review/versions/<uuid:pk>/test-deploy/", api_testing.VersionTestDeployApi.as_view(), name="api-test-deploy"),
    path("review/versions/<uuid:pk>/approve/", api_testing.VersionApproveApi.as_view(), name="api-version-approve"),
    path("review/versions/<uuid:pk>/publish/", api_testing.VersionPublishApi.as_view(), name="api-version-publish"),
    path("review/test-runs/<uuid:pk>/", api_testing.TestRunDetailApi.as_view(), name="api-test-run"),
]
