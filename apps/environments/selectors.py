"""Reads of environment sessions, with the owner-or-admin check built in."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from apps.environments.models import LIVE_STATUSES, EnvironmentSession
from rangex.core.errors import NotFound


def _base() -> QuerySet[EnvironmentSession]:
    return EnvironmentSession.objects.select_related("scenario_version__scenario", "user").prefetch_related("machines")


def env_session_get_for_user(*, user, pk) -> EnvironmentSession:
    """Return the session if ``user`` owns it or is an admin; anyone else gets a 404."""
    qs = _base()
    if not getattr(user, "is_platform_admin", False):
        qs = qs.filter(user=user)
    try:
        return qs.get(pk=pk)
    except (EnvironmentSession.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFound("No such session.") from exc


def env_session_list_for_user(*, user) -> QuerySet[EnvironmentSession]:
    return _base().filter(user=user, is_test=False).order_by("-created_at")


def env_session_live_for_user(*, user) -> QuerySet[EnvironmentSession]:
    return _base().filter(user=user, status__in=LIVE_STATUSES)


def env_session_live_for_version(*, user, version) -> EnvironmentSession | None:
    return _base().filter(user=user, scenario_version=version, status__in=LIVE_STATUSES).first()


def sessions_started_since(*, user, since) -> int:
    return EnvironmentSession.objects.filter(user=user, created_at__gte=since, is_test=False).count()


def live_sessions() -> QuerySet[EnvironmentSession]:
    return EnvironmentSession.objects.filter(status__in=LIVE_STATUSES)


def sessions_expired(*, now=None) -> QuerySet[EnvironmentSession]:
    now = now or timezone.now()
    return EnvironmentSession.objects.filter(status="running", expires_at__lte=now)


def sessions_idle(*, idle_minutes: int, now=None) -> QuerySet[EnvironmentSession]:
    now = now or timezone.now()
    return EnvironmentSession.objects.filter(
        status="running", last_activity_at__lte=now - timedelta(minutes=idle_minutes)
    )
