"""Badge pages: all badges, one badge with who earned it, and a user's achievements profile."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from apps.badges import selectors


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
    context = {
        "profile_user": user,
        "awards": list(selectors.user_badges(user=user)),
        "completed": selectors.user_completed_scenarios(user=user),
        "weekly": {"labels": [w for w, _ in weekly], "counts": [n for _, n in weekly]},
        "is_self": request.user.is_authenticated and request.user.pk == user.pk,
    }
    return render(request, "badges/profile.html", context)
