"""Reads of badges and profiles, with profile privacy built in.

A user's profile (badges, completed scenarios, weekly chart) is visible to the user, to admins,
and to everyone else only when ``user.profile_public`` is set. Badge pages list only the earners
whose profile is public (plus the viewer themself).
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.badges.models import Badge, UserBadge
from apps.environments.models import EnvironmentSession
from rangex.core.errors import NotFound
from rangex.core.selectors import get_one

WEEKS_IN_CHART = 12


def badge_list() -> QuerySet[Badge]:
    return Badge.objects.annotate(earned_count=Count("awards")).order_by("name")


def badge_get(*, pk) -> Badge:
    return get_one(badge_list().prefetch_related("requirements__scenario", "requirements__career_path"),
                   _("No such badge."), pk=pk)  # fmt: skip


def badge_earners_for_viewer(*, badge: Badge, viewer) -> QuerySet[UserBadge]:
    """Return the awards of ``badge`` whose earner shows their profile (the viewer sees themself too)."""
    visible = Q(user__profile_public=True, user__is_active=True)
    if viewer is not None and viewer.is_authenticated:
        visible |= Q(user=viewer)
    return UserBadge.objects.filter(visible, badge=badge).select_related("user").order_by("earned_at")


def _can_view(viewer, user) -> bool:
    if viewer is not None and viewer.is_authenticated and (viewer.pk == user.pk or viewer.is_platform_admin):
        return True
    return user.profile_public and user.is_active


def profile_user_get(*, viewer, pk):
    """Return the user whose profile ``viewer`` may see; a private profile is a 404 to others."""
    user = get_one(get_user_model().objects.all(), _("No such profile."), pk=pk)
    if not _can_view(viewer, user):
        raise NotFound(_("No such profile."))
    return user


def user_badge_ids(*, user) -> set:
    """Return the ids of the badges ``user`` holds (none for a visitor)."""
    if user is None or not user.is_authenticated:
        return set()
    return set(UserBadge.objects.filter(user=user).values_list("badge_id", flat=True))


def user_badges(*, user) -> QuerySet[UserBadge]:
    return UserBadge.objects.filter(user=user).select_related("badge").order_by("-earned_at")


def user_completed_scenarios(*, user) -> list[EnvironmentSession]:
    """Return the user's latest completion of each scenario, newest first (one query)."""
    sessions = (
        EnvironmentSession.objects.filter(user=user, is_test=False, completed_at__isnull=False)
        .select_related("scenario_version__scenario")
        .order_by("-completed_at")
    )
    seen, latest = set(), []
    for session in sessions:
        scenario_id = session.scenario_version.scenario_id
        if scenario_id not in seen:
            seen.add(scenario_id)
            latest.append(session)
    return latest


def user_completions_per_week(*, user, weeks: int = WEEKS_IN_CHART, now=None) -> list[tuple[str, int]]:
    """Return ``[(week starting, completed sessions)]`` for the last ``weeks`` weeks, oldest first."""
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    counts = {first + timedelta(weeks=i): 0 for i in range(weeks)}
    stamps = EnvironmentSession.objects.filter(user=user, is_test=False, completed_at__date__gte=first).values_list(
        "completed_at", flat=True
    )
    for stamp in stamps:
        day = timezone.localtime(stamp).date()
        week = day - timedelta(days=day.weekday())
        if week in counts:
            counts[week] += 1
    return [(week.isoformat(), n) for week, n in counts.items()]
