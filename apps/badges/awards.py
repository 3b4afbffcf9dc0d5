"""When badges are awarded: the receivers the badges app registers on lower apps' hooks.

- a completed session (``environments.hooks.session_completed``): the user's badges are evaluated
  once, after the paths app has told them about the paths that session finished;
- first blood in an event (``events.hooks.first_blood``): the solver's badges;
- a finished event (``events.hooks.event_finished``, periodic and idempotent): every participant's
  personal badges, then the event badges a team earned through its standing (``team_badge``).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.badges.models import Badge, RequirementType
from apps.badges.services import badge_requirements_met, badges_evaluate_for, badges_evaluate_for_users
from apps.environments.models import EnvironmentSession
from apps.events.models import EventParticipation
from apps.teams.models import TeamBadge
from rangex.core.audit import AuditAction, audit_record


def badges_on_session_completed(*, session_id) -> None:
    """Evaluate the badges of the completed session's user."""
    session = EnvironmentSession.objects.select_related("user").filter(pk=session_id, is_test=False).first()
    if session is not None:
        badges_evaluate_for(user=session.user, trigger="session_completed")


def badges_on_first_blood(*, user_id) -> None:
    badges_evaluate_for_users(user_ids=[user_id], trigger="event_first_blood")


def badges_on_event_finished(*, event, user_ids) -> int:
    """Award the personal badges of an ended event's participants, then its team badges."""
    awarded = badges_evaluate_for_users(user_ids=user_ids, trigger="event_finished")
    return awarded + team_badges_award(event=event)


def team_badges_award(*, event) -> int:
    """Give teams the event badges (top N, first blood) their members earned through the team.

    Team badges use the same definitions as personal ones: a badge whose requirements all concern
    this event goes to a participating team when a member meets it through the team's standing.
    """
    event_types = {RequirementType.EVENT_TOP_N, RequirementType.EVENT_FIRST_BLOOD}
    badges = [
        badge
        for badge in Badge.objects.filter(requirements__event_id=event.pk).distinct().prefetch_related("requirements")
        if all(r.requirement_type in event_types and r.event_id == event.pk for r in badge.requirements.all())
    ]
    awarded = 0
    rows = EventParticipation.objects.filter(event=event, team__isnull=False, disqualified=False).select_related("team")
    for participation in rows:
        members = list(participation.team.members.select_related("user"))
        for badge in badges:
            if any(badge_requirements_met(badge=badge, user=m.user) for m in members):
                # The award and its audit row commit together; a concurrent run's award wins quietly.
                with transaction.atomic():
                    try:
                        with transaction.atomic():
                            team_badge = TeamBadge.objects.create(team_id=participation.team_id, badge=badge)
                    except IntegrityError:
                        continue
                    audit_record(
                        actor=None,
                        action=AuditAction.TEAM_BADGE_AWARD,
                        target=participation.team,
                        details={"badge": str(badge.pk), "event": str(event.pk), "id": team_badge.pk},
                    )
                awarded += 1
    return awarded
