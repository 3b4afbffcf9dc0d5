"""Helpers every environments service shares: locks, access, live pushes, durations."""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _

from apps.environments.models import EnvironmentSession
from apps.environments.selectors import env_session_can_access
from rangex.core.errors import InvalidTransition, NotFound
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

MIN_SESSION_MINUTES = 30
EXTEND_MINUTES = 30
ACTIVITY_THROTTLE_SECONDS = 30
SHARING_LOOKBACK_DAYS = 30


def session_duration_minutes(version) -> int:
    """Return a new session's length: twice the estimate, at least 30 minutes, at most the system and scenario caps."""
    cap = get_settings().max_session_duration_minutes
    limit = getattr(version.scenario, "limit", None)
    if limit is not None and limit.max_duration_minutes:
        cap = min(cap, limit.max_duration_minutes)
    return max(min(version.estimated_minutes * 2, cap), min(MIN_SESSION_MINUTES, cap))


def session_runtime(session: EnvironmentSession):
    """Return the runtime backend that started ``session`` (the key it recorded, not the default).

    Raises ``RuntimeNotConfigured`` (a permanent ``RuntimeFailure``) when that key is no longer
    configured here; callers that must still finish (a stop) treat that case apart.
    """
    from apps.runtime import get_runtime

    return get_runtime(session.runtime_backend or None)


def session_capabilities(session: EnvironmentSession):
    """Return what the session's backend can do; nothing at all when its key is no longer configured."""
    from apps.runtime import Capabilities, RuntimeNotConfigured

    try:
        return session_runtime(session).capabilities
    except RuntimeNotConfigured:
        return Capabilities()


def session_locked(session: EnvironmentSession) -> EnvironmentSession:
    return EnvironmentSession.objects.select_for_update().select_related("scenario_version").get(pk=session.pk)


def require_transition(session: EnvironmentSession, to: str) -> None:
    if to not in EnvironmentSession.TRANSITIONS[session.status]:
        raise InvalidTransition(
            _("A %(lower)s session cannot become %(to)s.") % {"lower": session.get_status_display().lower(), "to": to}
        )


def require_access(session: EnvironmentSession, actor) -> None:
    if actor is not None and not env_session_can_access(user=actor, session=session):
        raise NotFound(_("No such session."))


def push(session_id, message: dict[str, Any]) -> None:
    """Send ``message`` to every open page of the session; never fails the caller."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(f"session-{session_id}", {"type": "session.event", "event": message})
    except Exception:
        logger.warning("live update for session %s failed", session_id, exc_info=True)
