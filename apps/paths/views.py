"""Pages of career paths and playlists: lists and details with progress, and playlist editing."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.paths import certificates, selectors, services
from apps.paths.models import PathCertificate
from apps.scenarios.models import ScenarioVersion
from rangex.core.errors import ApplicationError, NotFound
from rangex.core.http import safe_next_url
from rangex.core.selectors import get_one


@require_GET
def path_list(request: HttpRequest) -> HttpResponse:
    paths = list(selectors.career_path_list_for_user(user=request.user))
    playlists = list(selectors.playlist_list_for_user(user=request.user).order_by("-is_public", "title")[:50])
    progress = selectors.progress_for_many(user=request.user, containers=[*paths, *playlists])
    context = {
        "paths": [(p, progress[p.pk]) for p in paths],
        "playlists": [(p, progress[p.pk]) for p in playlists],
    }
    return render(request, "paths/list.html", context)


@require_GET
def path_detail(request: HttpRequest, pk) -> HttpResponse:
    path = selectors.career_path_get_for_user(user=request.user, pk=pk)
    progress = selectors.progress_for_many(user=request.user, containers=[path])[path.pk]
    return render(request, "paths/detail.html", {"container": path, "progress": progress, "kind": "path"})


@require_GET
def playlist_detail(request: HttpRequest, pk) -> HttpResponse:
    playlist = selectors.playlist_get_for_user(user=request.user, pk=pk)
    progress = selectors.progress_for_many(user=request.user, containers=[playlist])[playlist.pk]
    context = {
        "container": playlist,
        "progress": progress,
        "kind": "playlist",
        "can_edit": request.user.is_authenticated and playlist.owner_user_id == request.user.pk,
        "share_url": request.build_absolute_uri(playlist.get_absolute_url()),
    }
    return render(request, "paths/detail.html", context)


@login_required
@require_POST
def playlist_create(request: HttpRequest) -> HttpResponse:
    try:
        playlist = services.playlist_create(owner=request.user, title=request.POST.get("title", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(safe_next_url(request, "paths:list"))
    return redirect(playlist)


@login_required
@require_POST
def playlist_add(request: HttpRequest) -> HttpResponse:
    """Add a catalog version to one of the user's playlists, or to a new one named ``title``."""
    version = get_one(
        ScenarioVersion.objects.select_related("scenario"), _("No such scenario."), pk=request.POST.get("version")
    )
    try:
        playlist = None
        if request.POST.get("playlist"):
            playlist = selectors.playlist_get_owned(user=request.user, pk=request.POST["playlist"])
        playlist = services.playlist_add_version(
            owner=request.user, version=version, playlist=playlist, title=request.POST.get("title", "")
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Added %(title)s to %(title2)s.") % {"title": version.title, "title2": playlist.title}
        )
    return redirect(safe_next_url(request, "paths:list"))


def _owned_item(request: HttpRequest, pk, item_pk):
    playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
    return get_one(playlist.items.all(), _("No such item."), pk=item_pk)


@login_required
@require_POST
def playlist_item_move(request: HttpRequest, pk, item_pk) -> HttpResponse:
    item = _owned_item(request, pk, item_pk)
    try:
        position = int(request.POST.get("position", ""))
    except ValueError:
        position = None
    try:
        services.collection_item_move(item=item, actor=request.user, position=position)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("paths:playlist_detail", pk=pk)


@login_required
@require_POST
def playlist_item_remove(request: HttpRequest, pk, item_pk) -> HttpResponse:
    services.collection_item_remove(item=_owned_item(request, pk, item_pk), actor=request.user)
    return redirect("paths:playlist_detail", pk=pk)


@login_required
@require_POST
def playlist_share(request: HttpRequest, pk) -> HttpResponse:
    playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
    public = request.POST.get("public") in {"1", "true", "on"}
    try:
        services.collection_update(container=playlist, actor=request.user, is_public=public)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if public:
            link = request.build_absolute_uri(playlist.get_absolute_url())
            messages.success(
                request,
                _("%(title)s is public now: anyone with the link %(link)s can see it.")
                % {"title": playlist.title, "link": link},
            )
        else:
            messages.success(request, _("%(title)s is private now: only you can see it.") % {"title": playlist.title})
    return redirect("paths:playlist_detail", pk=pk)


@login_required
@require_POST
def playlist_delete(request: HttpRequest, pk) -> HttpResponse:
    services.collection_delete(container=selectors.playlist_get_owned(user=request.user, pk=pk), actor=request.user)
    return redirect("paths:list")


# --- Certificates ----------------------------------------------------------------------------------------


@login_required
@require_GET
def certificate(request: HttpRequest, pk) -> HttpResponse:
    """The learner's own certificate of a path they completed (issued on the first visit)."""
    path = selectors.career_path_get_for_user(user=request.user, pk=pk)
    try:
        cert = certificates.path_certificate_issue(user=request.user, path=path)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(path)
    verify_url = request.build_absolute_uri(cert.get_absolute_url())
    return render(request, "paths/certificate.html", {"cert": cert, "verify_url": verify_url, "own": True})


@login_required
@require_GET
def certificate_pdf(request: HttpRequest, pk) -> HttpResponse:
    """The PDF of the learner's own certificate; it names them, so only they may download it."""
    cert = get_one(PathCertificate.objects.select_related("career_path", "user"), _("No such certificate."),
                   pk=pk, user=request.user)  # fmt: skip
    verify_url = request.build_absolute_uri(cert.get_absolute_url())
    pdf = certificates.certificate_pdf(
        lines=[
            (30, 430, "Certificate of completion"),
            (16, 380, "RangeX certifies that"),
            (26, 335, cert.user.public_name),
            (16, 290, "completed every scenario of the career path"),
            (24, 245, cert.career_path.title),
            (14, 200, f"on {cert.completed_at:%d %B %Y}."),
            (10, 90, f"Verify at {verify_url}"),
        ]
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="rangex-certificate-{cert.pk}.pdf"'
    return response


@require_GET
def certificate_verify(request: HttpRequest, pk) -> HttpResponse:
    """The public check of a certificate link: valid or not; the learner's name only if their profile is public."""
    cert = PathCertificate.objects.select_related("career_path", "user").filter(pk=pk).first()
    context = {"cert": cert, "own": bool(cert and request.user.is_authenticated and cert.user_id == request.user.pk)}
    return render(request, "paths/certificate.html", context, status=200 if cert else 404)


@require_GET
def leaderboard(request: HttpRequest, pk) -> HttpResponse:
    """A path's leaderboard: only learners who opted in through their profile's privacy settings."""
    path = selectors.career_path_get_for_user(user=request.user, pk=pk)
    rows = certificates.path_leaderboard(path=path)
    return render(request, "paths/leaderboard.html", {"container": path, "rows": rows})
