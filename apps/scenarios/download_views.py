"""Access-checked file downloads: a local file is streamed, an object-store file is a short-lived signed URL."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from apps.scenarios import downloads
from rangex.core.errors import ApplicationError, NotFound
from rangex.core.storage import object_storage_error


def _send(served: downloads.Served) -> HttpResponse:
    try:
        if served.is_local:
            return FileResponse(served.storage.open(served.key, "rb"), as_attachment=True, filename=served.file_name)
        return HttpResponseRedirect(served.presigned_url())
    except FileNotFoundError:
        raise NotFound(_("The file of this download is missing from storage.")) from None
    except ApplicationError:
        raise
    except Exception as exc:
        raise object_storage_error(exc) from exc


@require_GET
def download(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    return _send(downloads.download_get_for_user(user=request.user, kind=kind, pk=pk))


@require_GET
def media_scenario_asset(request: HttpRequest, name: str) -> HttpResponse:
    return _send(downloads.scenario_file_get_for_user(user=request.user, name=f"scenario-assets/{name}"))


@require_GET
def library_file(request: HttpRequest, pk) -> HttpResponse:
    return _send(downloads.library_asset_get_for_staff(user=request.user, pk=pk))
