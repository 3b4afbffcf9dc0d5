from pathlib import Path

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.accounts.language import language_switch
from apps.ops import healthz
from apps.ops import views as ops_views
from apps.scenarios import download_views
from rangex import views

api_v1 = [
    path("accounts/", include("apps.accounts.api_urls")),
    path("sessions/", include("apps.environments.api_urls")),
    path("", include("apps.scenarios.api_urls")),
    path("", include("apps.paths.api_urls")),
    path("", include("apps.badges.api_urls")),
    path("events/", include("apps.events.api_urls")),
    path("teams/", include("apps.teams.api_urls")),
]

# Errors outside a view's own handling: JSON on the API, a page with the reason elsewhere.
handler400 = "rangex.core.error_views.bad_request"
handler403 = "rangex.core.error_views.permission_denied"
handler404 = "rangex.core.error_views.page_not_found"
handler500 = "rangex.core.error_views.server_error"


# The JavaScript catalog (static/js's gettext) changes only with a deploy: cached per language
# (the cache key carries the active language) under a key of this process's catalogs' age.
def _catalog_version() -> str:
    stamps = [int(mo.stat().st_mtime) for root in settings.LOCALE_PATHS for mo in Path(root).glob("*/LC_MESSAGES/*.mo")]
    return str(max(stamps, default=0))


_jsi18n = cache_page(86400, key_prefix=f"jsi18n-{_catalog_version()}")(
    JavaScriptCatalog.as_view(domain="djangojs", packages=["rangex"])
)

urlpatterns = [
    path("", views.home, name="home"),
    # The header's language switcher: Django's set_language, saving a signed-in user's choice.
    path("i18n/setlang/", language_switch, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", _jsi18n, name="javascript-catalog"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", healthz.healthz, name="healthz"),
    # The admin's links to a version's files; access-checked, never served as public media.
    path("media/scenario-assets/<path:name>", download_views.media_scenario_asset, name="scenario-asset-file"),
    path("metrics", ops_views.metrics, name="metrics"),
    path("accounts/", include("apps.accounts.urls")),
    path("ops/", include("apps.ops.urls")),
    path("sessions/", include("apps.environments.urls")),
    path("scenarios/", include("apps.scenarios.urls")),
    path("studio/import/", include("apps.scenarios.import_views")),
    path("paths/", include("apps.paths.urls")),
    path("badges/", include("apps.badges.urls")),
    path("events/", include("apps.events.urls")),
    path("teams/", include("apps.teams.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.DEBUG or not settings.AWS_STORAGE_BUCKET_NAME:
    # Public images (avatars, covers, badge icons) are served by Django when no object store is configured.
    # Scenario assets are never public: they go through access-checked views.
    urlpatterns += [
        path(f"media/{folder}/<path:path>", serve, {"document_root": settings.MEDIA_ROOT / folder})
        for folder in ("avatars", "covers", "badges")
    ]
