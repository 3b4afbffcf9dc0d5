"""Badge pages: all badges, one badge with who earned it, and a user's achievements profile."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from apps.badges import credentials, selectors


@require_GET
def badge_list(request: HttpRequest) -> HttpResponse:
    badges = list(selectors.badge_list())
    earned = selectors.user_badge_ids(user=request.user)
    for badge in badges:
        badge.earned_by_me = badge.pk in earned
    return render(request, "badges/list.html", {"badges": badges, "earned_total": len(earned)})


@require_GET
def badge_detail(request: HttpRequest, pk) -> HttpResponse:
    badge = selectors.badge_get(pk=pk)
    earners = list(selectors.badge_earners_for_viewer(badge=badge, viewer=request.user)[:200])
    return render(request, "badges/detail.html", {"badge": badge, "earners": earners})


@login_required
@require_GET
def my_profile(request: HttpRequest) -> HttpResponse:
    return redirect("badges:profile", pk=request.user.pk)


@require_GET
def profile(request: HttpRequest, pk) -> HttpResponse:
    user = selectors.profile_user_get(viewer=request.user, pk=pk)
    weekly = selectors.user_completions_per_week(user=user)
    awards = list(selectors.user_badges(user=user))
    for award in awards:
        award.credential_ref = credentials.credential_ref(award)
    context = {
        "profile_user": user,
        "awards": awards,
        "completed": selectors.user_completed_scenarios(user=user),
        "weekly": {"labels": [w for w, _ in weekly], "counts": [n for _, n in weekly]},
        "is_self": request.user.is_authenticated and request.user.pk == user.pk,
    }
    return render(request, "badges/profile.html", context)


# --- Open Badges 3.0 ---------------------------------------------------------------------------------


def _origin(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _award_or_404(ref: str):
    award = credentials.award_from_ref(ref)
    if award is None:
        raise Http404(_("No such credential."))
    return award


@require_GET
def issuer(request: HttpRequest) -> HttpResponse:
    """The issuer's Open Badges profile, with the public key credentials are checked against."""
    profile = {
        "@context": credentials.CONTEXTS,
        "id": _origin(request) + reverse("badges:issuer"),
        "type": ["Profile"],
        "name": "RangeX",
        "url": _origin(request) + "/",
        "publicKey": credentials.public_jwk(),
    }
    return JsonResponse(profile)


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"keys": [credentials.public_jwk()]})


@require_GET
def credential(request: HttpRequest, ref: str) -> HttpResponse:
    """The public verification page of one credential: valid or not; the earner's name only if public."""
    award = credentials.award_from_ref(ref)
    context = {"award": award, "ref": ref, "valid": False}
    if award is not None:
        token = credentials.credential_sign(credentials.credential_build(award=award, base_url=_origin(request)))
        context.update(
            valid=credentials.credential_verify(token) is not None,
            show_earner=award.user.profile_public and award.user.is_active,
            is_self=request.user.is_authenticated and request.user.pk == award.user_id,
        )
    return render(request, "badges/credential.html", context, status=200 if award else 404)


def _signed(request: HttpRequest, ref: str) -> tuple:
    award = _award_or_404(ref)
    return award, credentials.credential_sign(credentials.credential_build(award=award, base_url=_origin(request)))


@require_GET
def credential_jwt(request: HttpRequest, ref: str) -> HttpResponse:
    _award, token = _signed(request, ref)
    response = HttpResponse(token, content_type="application/vc+jwt")
    response["Content-Disposition"] = f'attachment; filename="rangex-badge-{ref}.jwt"'
    return response


@require_GET
def credential_png(request: HttpRequest, ref: str) -> HttpResponse:
    award, token = _signed(request, ref)
    icon = None
    if award.badge.icon:
        try:
            with award.badge.icon.open("rb") as handle:
                icon = handle.read()
        except OSError:
            icon = None
    response = HttpResponse(credentials.baked_png(token=token, image_bytes=icon), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="rangex-badge-{ref}.png"'
    return response


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Check a credential someone holds: pasted as a JWT, or a baked PNG uploaded."""
    result = None
    if request.method == "POST":
        token = request.POST.get("credential", "").strip()
        upload = request.FILES.get("image")
        if upload is not None and upload.size <= 2 * 1024 * 1024:
            try:
                token = credentials.unbake_png(upload.read()) or ""
            except OSError:
                token = ""
        found = credentials.credential_verify(token) if token else None
        result = {"valid": found is not None, "credential": found}
    return render(request, "badges/verify.html", {"result": result}, status=200)
