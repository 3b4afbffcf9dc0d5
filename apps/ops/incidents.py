"""Sessions for an operator on call: list them, and stop them by id, user or scenario (``manage.py sessions``)."""

from __future__ import annotations

import logging

from django.db.models import QuerySet

from apps.environments import services as env_services
from apps.environments.models import LIVE_STATUSES, EnvironmentSession, SessionStatus
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import InvalidTransition

logger = logging.getLogger(__name__)


def sessions_for_operator(
    *, states: list[str] | None = None, user_email: str = "", scenario_slug: str = "", session_id: str = ""
) -> QuerySet[EnvironmentSession]:
    """Return sessions, newest first, filtered by state, user's email, scenario slug or id (live states by default)."""
    sessions = EnvironmentSession.objects.select_related("user", "scenario_version__scenario").order_by("-created_at")
    if session_id:
        return sessions.filter(pk=session_id)
    sessions = sessions.filter(status__in=states or LIVE_STATUSES)
    if user_email:
        sessions = sessions.filter(user__email__iexact=user_email)
    if scenario_slug:
        sessions = sessions.filter(scenario_version__scenario__slug=scenario_slug)
    return sessions


def session_as_dict(session: EnvironmentSession) -> dict:
    return {
        "id": str(session.pk),
        "state": session.status,
        "user": session.user.email,
        "scenario": session.scenario_version.scenario.slug,
        "created_at": session.created_at,
        "started_at": session.started_at,
        "expires_at": session.expires_at,
        "cost_rm": session.cost_accumulated_rm,
    }


def sessions_stop_by_operator(*, sessions, operator: str, reason: str = "", actor=None) -> list[str]:
    """Stop every live session given (not yet stopping) through the environments' stop service; return their ids.

    ``operator`` names who ran the command (their login on the host); ``actor``, when given, is
    their RangeX account. One audit row names the operator and every session; each stop is audited
    by the stop service as well.
    """
    reason = reason or f"Stopped by an operator ({operator})."
    stopped = []
    for session in sessions:
        if session.status == SessionStatus.STOPPING:
            continue
        try:
            env_services.env_session_stop(session=session, actor=None, reason=reason)
        except InvalidTransition:
            continue
        stopped.append(str(session.pk))
    if stopped:
        audit_record(
            actor=actor,
            action=AuditAction.OPERATOR_SESSIONS_STOP,
            details={"operator": operator, "reason": reason, "sessions": stopped},
        )
        logger.info("operator %s stopped %s session(s): %s", operator, len(stopped), ", ".join(stopped))
    return stopped
