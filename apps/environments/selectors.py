"""Reads of environment sessions, with the owner-or-admin check built in."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from apps.environments import hooks
from apps.environments.models import EnvironmentSession
from rangex.core.errors import NotFound


def _base() -> QuerySet[EnvironmentSession]:
    return EnvironmentSession.objects.select_related("scenario_version__scenario", "user").prefetch_related("machines")


def env_session_can_access(*, user, session: EnvironmentSession) -> bool:
    """Return True for the owner, an admin, or someone a registered hook lets in."""
    if user is None or not user.is_authenticated:
        return False
    if session.user_id == user.pk or getattr(user, "is_platform_admin", False):
        return True
    return hooks.session_access.any(user=user, session=session)


def env_session_get_for_user(*, user, pk) -> EnvironmentSession:
    """Return the session if ``user`` may use it; anyone else gets a 404."""
    try:
        session = _base().get(pk=pk)
    except (EnvironmentSession.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound("No such session.") from exc
    if not env_session_can_access(user=user, session=session):
        raise NotFound("No such session.")
    return session


def env_session_list_for_user(*, user) -> QuerySet[EnvironmentSession]:
    return _base().filter(user=user, is_test=False).order_by("-created_at")
