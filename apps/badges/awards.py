"""When badges are awarded: the receivers the badges app registers on lower apps' hooks.

- a completed session (``environments.hooks.session_completed``): the user's badges are evaluated
  once, after the paths app has told them about the paths that session finished;
- first blood in an event (``events.hooks.first_blood``): the solver's badges;
- a finished event (``events.hooks.event_finished``, periodic and idempotent): every participant's
  personal badges, then the event badges a team earned through its standing (``team_badge``);
- changed standings (``events.hooks.standings_changed``: a disqualification, a reinstatement): the
  event's badges are recomputed, so whoever no longer qualifies loses them and whoever now
  qualifies gets them; re-running any of these never makes a second winner.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from apps.badges.models import Badge, RequirementType, UserBadge
from apps.badges.services import (
    badge_requirements_met,
    badges_evaluate_for,
    badges_evaluate_for_users,
    user_badge_award,
    user_badge_revoke,
)
from apps.environments.models import EnvironmentSession
from apps.events.models import EventParticipation
from apps.events.selectors import event_participant_user_ids
from apps.teams.models import TeamBadge
from rangex.core.audit import AuditAction, audit_record
from rangex.core.scheduling import enqueue

EVENT_TYPES = {RequirementType.EVENT_TOP_N, RequirementType.EVENT_FIRST_BLOOD, RequirementType.EVENT_FINISHER}


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


def badges_on_standings_changed(*, event) -> None:
    # Recomputing walks every participant's badges: a task, not the organiser's request.
    enqueue("apps.badges.tasks.event_badges_reconcile_task", str(event.pk))


def _event_badges(event) -> list[Badge]:
    """Return the badges whose requirements all concern ``event``."""
    return [
        badge
        for badge in Badge.objects.filter(requirements__event_id=event.pk).distinct().prefetch_related("requirements")
        if all(r.requirement_type in EVENT_TYPES and r.event_id == event.pk for r in badge.requirements.all())
    ]


def _team_members_then(participation) -> list:
    """Return the members of the row's team who joined before the event ended (those who played it)."""
    members = participation.team.members.select_related("user").filter(joined_at__lte=participation.event.end_date)
    return [m.user for m in members]


def team_badges_award(*, event) -> int:
    """Give teams the event badges (top N, first blood, finisher) their members earned through the team.

    Team badges use the same definitions as personal ones: a badge whose requirements all concern
    this event goes to a participating team when a member meets it through the team's standing.
    """
    awarded = 0
    badges = _event_badges(event)
    rows = EventParticipation.objects.filter(event=event, team__isnull=False, disqualified=False).select_related(
        "team", "event"
    )
    for participation in rows:
        members = _team_members_then(participation)
        for badge in badges:
            if any(badge_requirements_met(badge=badge, user=user) for user in members):
                awarded += _team_badge_award(participation.team, badge, event)
    return awarded


def _team_badge_award(team, badge, event) -> int:
    # The award and its audit row commit together; a concurrent run's award wins quietly.
    with transaction.atomic():
        try:
            with transaction.atomic():
                team_badge = TeamBadge.objects.create(team=team, badge=badge)
        except IntegrityError:
            return 0
        audit_record(
            actor=None,
            action=AuditAction.TEAM_BADGE_AWARD,
            target=team,
            details={"badge": str(badge.pk), "event": str(event.pk), "id": team_badge.pk},
        )
    return 1


def event_badges_reconcile(*, event) -> dict[str, int]:
    """Make the holders of ``event``'s badges exactly those who qualify now (after the standings changed).

    Awards whoever now qualifies (a team moved up when another was disqualified) and takes the
    badge back from whoever no longer does (the disqualified team, or the one that moved down
    when it was reinstated), for people and for teams. Idempotent.
    """
    badges = _event_badges(event)
    if not badges:
        return {"awarded": 0, "revoked": 0}
    awarded = revoked = 0
    reason = f"The standings of {event.name} changed."
    users = {u.pk: u for u in _users(event_participant_user_ids(event=event))}
    for award in UserBadge.objects.filter(badge__in=badges).select_related("user", "badge"):
        users.setdefault(award.user_id, award.user)
    held = set(UserBadge.objects.filter(badge__in=badges).values_list("user_id", "badge_id"))
    for badge in badges:
        for user in users.values():
            met = badge_requirements_met(badge=badge, user=user)
            if met and (user.pk, badge.pk) not in held:
                awarded += user_badge_award(user=user, badge=badge, trigger="standings_changed") is not None
            elif not met and (user.pk, badge.pk) in held:
                award = UserBadge.objects.select_related("user", "badge").get(user=user, badge=badge)
                user_badge_revoke(award=award, reason=reason)
                revoked += 1
    rows = EventParticipation.objects.filter(event=event, team__isnull=False).select_related("team", "event")
    for participation in rows:
        members = _team_members_then(participation)
        for badge in badges:
            qualifies = not participation.disqualified and any(
                badge_requirements_met(badge=badge, user=user) for user in members
            )
            team_badge = TeamBadge.objects.filter(team=participation.team, badge=badge).first()
            if qualifies and team_badge is None:
                awarded += _team_badge_award(participation.team, badge, event)
            elif not qualifies and team_badge is not None:
                with transaction.atomic():
                    team_badge.delete()
                    audit_record(
                        actor=None,
                        action=AuditAction.TEAM_BADGE_REVOKE,
                        target=participation.team,
                        details={"badge": str(badge.pk), "event": str(event.pk), "reason": reason},
                    )
                revoked += 1
    return {"awarded": awarded, "revoked": revoked}


def _users(user_ids):
    from apps.accounts.models import User

    return User.objects.filter(pk__in=list(user_ids), is_active=True)
