"""Every state change of an event: save, registration, playing, solves, ranks, disqualification.

Solves in one event are serialised by a lock on the event row: the solve, first blood, the dynamic
value, the participant's total and every rank that moves are written in that one transaction, and
the new board is pushed to open pages after the commit.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from apps.environments.models import LIVE_STATUSES, EnvironmentSession
from apps.events import hooks, scoring
from apps.events.models import (
    EnvironmentMode,
    Event,
    EventParticipation,
    EventRegistration,
    EventScenario,
    EventSession,
    EventSolve,
    ScoringMode,
)
from apps.scenarios import grading
from apps.scenarios.selectors import version_content
from apps.teams.models import Team, TeamMember
from rangex.core.audit import AuditAction, audit_record, full_clean_or_raise
from rangex.core.errors import Conflict, LimitExceeded, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send
from rangex.core.scheduling import send_now

logger = logging.getLogger(__name__)


# --- Events (admin) -----------------------------------------------------------------------------


def event_save(*, event: Event, actor, changed: list[str] | None = None) -> Event:
    """Validate and save an event the admin created or edited; audit it and refresh its board."""
    full_clean_or_raise(event)
    creating = event._state.adding
    with transaction.atomic():
        if creating:
            event.created_by_user = event.created_by_user or actor
            event.save()
        else:
            event.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_CREATE if creating else AuditAction.EVENT_UPDATE,
            target=event,
            details={"changed": changed or []},
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return event


def event_challenges_save(*, event: Event, actor, saved: list[EventScenario], removed: list[EventScenario]) -> None:
    """Add, reorder and remove ``event``'s challenges (the admin's inline), with an audit row.

    The scoreboard's task list is cached with the board, so the open pages get a fresh one.
    """
    if not saved and not removed:
        return
    with transaction.atomic():
        for row in removed:
            row.delete()
        for row in saved:
            row.event = event
            full_clean_or_raise(row)
            row.save()
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_CHALLENGES,
            target=event,
            details={
                "saved": [{"version": str(r.scenario_version_id), "sort_order": r.sort_order} for r in saved],
                "removed": [str(r.scenario_version_id) for r in removed],
            },
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))


# --- Registration -------------------------------------------------------------------------------


def _locked_event(event: Event) -> Event:
    return Event.objects.select_for_update().get(pk=event.pk)


# Two statements of the answer path in plain SQL. Django compiles every ORM query afresh, about
# 1 ms each on a small server, and these run under the event lock, where each millisecond is paid
# by every solver of the event in turn. (UUIDs go in as hex, which MariaDB and SQLite both read.)
LOCK_FOR_ANSWER_SQL = """
SELECT start_date, end_date,
       EXISTS(SELECT 1 FROM event_scenario WHERE event_id = %(event)s AND scenario_version_id = %(version)s)
FROM event WHERE id = %(event)s
"""
SOLVED_BEFORE_SQL = """
SELECT 1 FROM event_solve
WHERE event_id = %(event)s AND scenario_version_id = %(version)s AND question_id = %(question)s LIMIT 1
"""


def _lock_event_for_answer(event: Event, version_id) -> None:
    """Lock the event row, serialising its solves; refresh ``event``'s window; check the challenge.

    One statement: the challenge check is a subquery, which a locking read leaves unlocked. The
    rest of ``event`` is as the caller read it at the start of the request: an admin's change of
    the scoring rules takes effect from the next answer on, but a changed window binds at once.
    """
    try:
        version_hex = uuid.UUID(str(version_id)).hex
    except (ValueError, TypeError, AttributeError):
        raise NotFound("This event has no such challenge.") from None
    sql = LOCK_FOR_ANSWER_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"event": event.pk.hex, "version": version_hex})
        row = cursor.fetchone()
    if row is None or not row[2]:
        raise NotFound("This event has no such challenge.")
    convert = connection.ops.convert_datetimefield_value
    event.start_date, event.end_date = (convert(value, None, connection) for value in row[:2])


def _solved_before(event: Event, version, question_id: str) -> bool:
    """Return whether anyone solved ``question_id`` of ``version`` in ``event`` (one index probe)."""
    with connection.cursor() as cursor:
        cursor.execute(SOLVED_BEFORE_SQL, {"event": event.pk.hex, "version": version.pk.hex, "question": question_id})
        return cursor.fetchone() is not None


def _new_participant_rank(event: Event) -> int:
    return EventParticipation.objects.filter(event=event, disqualified=False, total_points__gt=0).count() + 1


def _member_conflict(event: Event, team: Team) -> str | None:
    """Return the name of a member of ``team`` already playing ``event`` (solo or in another team)."""
    member_ids = list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    solo = EventRegistration.objects.filter(event=event, user_id__in=member_ids, team__isnull=True).select_related(
        "user"
    )
    clash = solo.first()
    if clash is not None:
        return clash.user.display_name or clash.user.email
    other = (
        TeamMember.objects.filter(user_id__in=member_ids, team__event_participations__event=event)
        .exclude(team=team)
        .select_related("user")
        .first()
    )
    if other is not None:
        return other.user.display_name or other.user.email
    return None


def event_register(*, event: Event, user, team: Team | None = None, on_first_play: bool = False) -> EventParticipation:
    """Register ``user`` (solo) or ``team`` by its leader (team events).

    ``on_first_play`` registers a solver of an event without required registration when they first
    play, which happens after the start by nature.
    """
    with transaction.atomic():
        # The event row lock serialises registrations, so max_participants holds under concurrency.
        event = _locked_event(event)
        now = timezone.now()
        if not event.is_public and not user.is_platform_admin:
            raise NotFound("No such event.")
        if now >= event.end_date:
            raise Conflict("This event has ended; registration is closed.")
        if now >= event.start_date and not (event.allow_late_registration or on_first_play):
            raise Conflict("Registration closed when the event started.")
        if team is not None and event.is_team:
            team = Team.objects.select_for_update().get(pk=team.pk)
            if team.leader_id != user.pk:
                raise PermissionDenied("Only the team's leader may register the team.")
            invited = [str(t) for t in event.participating_team_ids or []]
            if invited and str(team.pk) not in invited:
                raise PermissionDenied("This event is by invitation, and your team is not invited.")
            if EventRegistration.objects.filter(event=event, team=team).exists():
                raise Conflict("Your team is already registered for this event.")
            clash = _member_conflict(event, team)
            if clash:
                raise Conflict(f"{clash}, a member of your team, is already registered in this event.")
        elif team is not None:
            raise ValidationFailed("This is an individual event: register yourself, not a team.")
        else:
            if EventRegistration.objects.filter(event=event, user=user).exists():
                raise Conflict("You are already registered for this event.")
            if TeamMember.objects.filter(user=user, team__event_participations__event=event).exists():
                raise Conflict("Your team is already registered in this event; play with it.")
        if EventRegistration.objects.filter(event=event, user=user).exists():
            raise Conflict("You are already registered in this event (with another team or alone).")
        if event.max_participants and event.participations.count() >= event.max_participants:
            raise LimitExceeded(
                f"This event is full ({event.max_participants} participants).", limit="max_participants"
            )
        EventRegistration.objects.create(event=event, user=user, team=team)
        participation = EventParticipation.objects.create(
            event=event,
            user=None if team else user,
            team=team,
            participant_type=EventParticipation.ParticipantType.TEAM
            if team
            else EventParticipation.ParticipantType.USER,
            rank=_new_participant_rank(event),
        )
        audit_record(
            actor=user,
            action=AuditAction.EVENT_REGISTER,
            target=event,
            details={"team": str(team.pk) if team else None},
        )
        recipients = [m.user for m in TeamMember.objects.filter(team=team).select_related("user")] if team else [user]
        for recipient in recipients:
            notification_send(
                user=recipient,
                type=NotificationType.EVENT,
                title=f"Registered for {event.name}",
                body=f"It starts {event.local(event.start_date):%Y-%m-%d %H:%M} ({event.timezone}).",
                link=event.get_absolute_url(),
            )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return participation


# --- Playing ------------------------------------------------------------------------------------


def participation_for(*, event: Event, user) -> EventParticipation | None:
    """Return the board row ``user`` plays under in ``event`` (their own, or their team's)."""
    if not getattr(user, "is_authenticated", False):
        return None
    if event.is_team:
        team_row = (
            EventParticipation.objects.filter(event=event, team__members__user=user).select_related("team").first()
        )
        if team_row is not None:
            return team_row
    return EventParticipation.objects.filter(event=event, user=user).first()


def _playing_participation(event: Event, user) -> EventParticipation:
    participation = participation_for(event=event, user=user)
    if participation is None:
        if event.registration_required:
            raise PermissionDenied("Register for this event first.")
        participation = event_register(event=event, user=user, on_first_play=True)
    if participation.disqualified:
        raise PermissionDenied("You were disqualified from this event.")
    return participation


def _require_live(event: Event, what: str) -> None:
    now = timezone.now()
    fmt = "%Y-%m-%d %H:%M"
    if now < event.start_date:
        raise Conflict(
            f"The event has not started yet; {what} open at {event.local(event.start_date):{fmt}} ({event.timezone})."
        )
    if now >= event.end_date:
        raise Conflict(f"The event is over; {what} closed at {event.local(event.end_date):{fmt}} ({event.timezone}).")


def _event_version(event: Event, version_id):
    row = (
        EventScenario.objects.filter(event=event, scenario_version_id=version_id)
        .select_related("scenario_version")
        .first()
    )
    if row is None:
        raise NotFound("This event has no such challenge.")
    return row.scenario_version


def _get_event_session(
    event: Event, participation: EventParticipation, version, user, *, save: bool = True
) -> EventSession:
    """Return the participant's play of ``version``, locked; created on first play.

    With ``save=False`` a first play is returned unsaved, for the caller to write once with its
    first answer (``_save_event_session``). The caller holds the lock on ``participation``: every
    path that creates an event session takes it first, so the lookup and the insert cannot race.
    """
    try:
        return EventSession.objects.select_for_update().get(participation=participation, scenario_version=version)
    except EventSession.DoesNotExist:
        pass
    event_session = EventSession(
        event=event,
        participation=participation,
        scenario_version=version,
        user=user,
        mode=event.environment_mode if event.is_team else EnvironmentMode.OWN,
        started_at=timezone.now(),
    )
    if save:
        event_session.save()
    return event_session


def _save_event_session(event_session: EventSession, fields: list[str]) -> None:
    """Write ``fields`` of ``event_session``, or the whole row on its first play."""
    if event_session.pk is None:
        event_session.save()
    else:
        event_session.save(update_fields=[*fields, "updated_at"])


def event_session_start(*, event: Event, user, version_id, client_ip=None, user_agent: str = "") -> EventSession:
    """Start playing a challenge; a lab version also starts (or reuses) the environment session."""
    from apps.environments.services import env_session_start

    _require_live(event, "challenges")
    version = _event_version(event, version_id)
    _playing_participation(event, user)
    with transaction.atomic():
        participation = _locked_participation(event, user)
        event_session = _get_event_session(event, participation, version, user)
        if version.requires_machines:
            shared = event_session.mode == EnvironmentMode.SHARED
            current = event_session.environment_session
            if shared and current is not None and current.status in LIVE_STATUSES:
                return event_session
            env = env_session_start(
                user=user,
                version=version,
                client_ip=client_ip,
                user_agent=user_agent,
                event_id=event.pk,
                team_id=participation.team_id,
            )
            if env.event_id != event.pk:
                # env_session_start hands back a live lab of this version, which here is one of
                # practice or of another event: its answers would not count in this event.
                raise Conflict("You already have a lab of this challenge running outside this event; stop it first.")
            event_session.environment_session = env
            event_session.save(update_fields=["environment_session", "updated_at"])
        audit_record(
            actor=user, action=AuditAction.EVENT_SESSION_START, target=event, details={"version": str(version.pk)}
        )
    return event_session


def _lab_session(event_session: EventSession, user) -> EnvironmentSession:
    if event_session.mode == EnvironmentMode.SHARED:
        env = event_session.environment_session
    else:
        env = (
            EnvironmentSession.objects.filter(
                user=user, scenario_version_id=event_session.scenario_version_id, event_id=event_session.event_id
            )
            .filter(status__in=LIVE_STATUSES)
            .order_by("-created_at")
            .first()
        )
    if env is None or env.status not in LIVE_STATUSES:
        raise Conflict("Start the lab of this challenge first.")
    return env


def _question(version, question_id):
    for question in version.questions or []:
        if question.get("id") == question_id:
            return question
    raise NotFound(f"This challenge has no question {question_id!r}.")


def _grade(event_session: EventSession, version, user, question_id: str, answer) -> tuple[bool, Any, str]:
    """Grade through the lab's answer service, or directly for a version without machines."""
    if version.requires_machines:
        from apps.environments.services import env_session_submit_answer

        env = _lab_session(event_session, user)
        # The event checked membership; in a shared lab the teammate acts for the team.
        result = env_session_submit_answer(
            session=env, actor=user if env.user_id == user.pk else None, question_id=question_id, answer=answer
        )
        state = result["state"]
        return bool(state.get("correct")), state, result["message"]
    question = _question(version, question_id)
    states = dict(event_session.attempt_states or {})
    result = grading.grade(
        question=question,
        state=states.get(question_id),
        answer=answer,
        scoring_mode=version.scoring_mode,
        hint_mode=version.hint_mode,
        hints=version.hints or [],
    )
    states[question_id] = result.state
    event_session.attempt_states = states
    return result.correct, result.state, result.message


def _locked_participation(event: Event, user) -> EventParticipation:
    """Return the caller's board row, locked; their team's in a team event."""
    rows = EventParticipation.objects.select_for_update()
    participation = None
    if event.is_team:
        participation = rows.filter(event=event, team__members__user=user).first()
    if participation is None:
        try:
            participation = rows.get(event=event, user=user)
        except EventParticipation.DoesNotExist:
            raise PermissionDenied("Register for this event first.") from None
    if participation.disqualified:
        raise PermissionDenied("You were disqualified from this event.")
    return participation


def event_submit_answer(*, event: Event, user, version_id, question_id: str, answer) -> dict[str, Any]:
    """Answer a challenge question; a correct answer scores for the participant (the whole team)."""
    if not isinstance(question_id, str) or not question_id:
        raise ValidationFailed("Name the question you answer.", fields={"question_id": ["This field is required."]})
    _require_live(event, "answers")
    if not event.registration_required and participation_for(event=event, user=user) is None:
        _question(_event_version(event, version_id), question_id)  # a bad challenge registers nobody
        _playing_participation(event, user)
    with transaction.atomic():
        _lock_event_for_answer(event, version_id)
        _require_live(event, "answers")
        version = version_content(version_id=version_id)  # published content, cached in this process
        _question(version, question_id)
        participation = _locked_participation(event, user)
        event_session = _get_event_session(event, participation, version, user, save=False)
        if question_id in (event_session.answers or {}):
            who = "Your team has" if event.is_team else "You have"
            raise grading.AlreadySolved(f"{who} already solved this question.")
        correct, state, message = _grade(event_session, version, user, question_id, answer)
        points = 0
        if correct:
            points = _record_solve(
                event=event,
                participation=participation,
                event_session=event_session,
                version=version,
                question_id=question_id,
                user=user,
                answer=state.get("submitted_answer"),
                earned=int(state.get("earned_points") or 0),
            )
            message = f"Correct! {points} points."
        else:
            _save_event_session(event_session, ["attempt_states"])
        audit_record(
            actor=user,
            action=AuditAction.EVENT_ANSWER,
            target=event,
            details={"version": str(version.pk), "question": question_id, "correct": correct, "points": points},
        )
    return {
        "question_id": question_id,
        "correct": correct,
        "message": message,
        "points": points,
        "total_points": participation.total_points,
        "rank": participation.rank,
    }


def _record_solve(*, event, participation, event_session, version, question_id, user, answer, earned) -> int:
    """Write the solve, the hash chain, the totals and the ranks; all inside the caller's transaction."""
    now = timezone.now()
    retro_delta = 0
    if event.scoring_mode == ScoringMode.DYNAMIC:
        earlier = EventSolve.objects.filter(event=event, scenario_version=version, question_id=question_id)
        solves_before = earlier.count()
        value = scoring.dynamic_value(
            initial=event.dynamic_initial,
            minimum=event.dynamic_minimum,
            decay=event.dynamic_decay,
            solves_before=solves_before,
        )
        if event.dynamic_retroactive and solves_before:
            before = scoring.dynamic_value(
                initial=event.dynamic_initial,
                minimum=event.dynamic_minimum,
                decay=event.dynamic_decay,
                solves_before=solves_before - 1,
            )
            retro_delta = before - value
        first_blood = solves_before == 0
    else:
        value = earned
        # Static points need no count, only whether anyone solved it before.
        first_blood = not _solved_before(event, version, question_id)
    points = value + (event.first_blood_bonus if first_blood else 0)

    answers = dict(event_session.answers or {})
    entry = {
        "seq": len(answers) + 1,
        "question_id": question_id,
        "answer": answer,
        "points": points,
        "user_id": str(user.pk),
        "at": now.isoformat(),
    }
    answers[question_id] = entry
    event_session.answers = answers
    event_session.answers_hash = scoring.chain_next(event_session.answers_hash or "", entry)
    event_session.score += points
    total_questions = max(len(version.questions or []), 1)
    event_session.progress_pct = min(100, int(100 * len(answers) / total_questions))
    finished = event_session.finished_at is None and len(answers) >= total_questions
    fields = ["answers", "answers_hash", "score", "progress_pct", "attempt_states"]
    if finished:
        event_session.status = EventSession.Status.FINISHED
        event_session.finished_at = now
        fields += ["status", "finished_at"]
    _save_event_session(event_session, fields)

    EventSolve.objects.create(
        event=event,
        participation=participation,
        event_session=event_session,
        scenario_version=version,
        question_id=question_id,
        user=user,
        points=points,
        first_blood=first_blood,
        created_at=now,
    )
    old_total, old_time = participation.total_points, participation.last_solve_at
    participation.total_points += points
    if finished:
        participation.challenges_completed += 1
    if points > 0:
        participation.last_solve_at = now
    ranked = True
    if points > 0 and not retro_delta:
        ranked = _rank_after_gain(event, participation, old_total, old_time)
    participation.save(update_fields=["total_points", "challenges_completed", "last_solve_at", "rank"])
    if participation.team_id:
        Team.objects.filter(pk=participation.team_id).update(event_points=F("event_points") + points)
    if retro_delta:
        _apply_retroactive(event, version, question_id, participation, retro_delta)
    if retro_delta or not ranked:
        rank_recompute(event=event)
        participation.refresh_from_db(fields=["rank"])
    transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    if first_blood and user is not None:
        transaction.on_commit(lambda: hooks.first_blood.send(user_id=user.pk))
    return points


def events_award_finished(*, within_hours: int = 2) -> int:
    """Tell the badges app about the events that ended in the last ``within_hours``.

    Run periodically; awarding is idempotent, so overlapping windows only cost a re-check.
    """
    from datetime import timedelta

    now = timezone.now()
    awarded = 0
    for event in Event.objects.filter(end_date__lte=now, end_date__gte=now - timedelta(hours=within_hours)):
        user_ids = set(
            EventParticipation.objects.filter(event=event, user__isnull=False).values_list("user_id", flat=True)
        )
        user_ids |= set(
            EventParticipation.objects.filter(event=event, team__isnull=False).values_list(
                "team__members__user_id", flat=True
            )
        )
        user_ids.discard(None)
        awarded += sum(hooks.event_finished.send(event=event, user_ids=user_ids))
    return awarded


def _apply_retroactive(event, version, question_id, participation, delta: int) -> None:
    """Lower every earlier solver of the question by ``delta``: the value now applies to all."""
    earlier = EventSolve.objects.filter(event=event, scenario_version=version, question_id=question_id).exclude(
        participation=participation
    )
    solver_ids = list(earlier.values_list("participation_id", flat=True))
    earlier.update(points=F("points") - delta)
    EventParticipation.objects.filter(pk__in=solver_ids).update(total_points=F("total_points") - delta)
    EventSession.objects.filter(participation_id__in=solver_ids, scenario_version=version).update(
        score=F("score") - delta
    )
    # A disqualified team's points already left its standing.
    counted = EventParticipation.objects.filter(pk__in=solver_ids, disqualified=False, team__isnull=False)
    Team.objects.filter(pk__in=counted.values("team_id")).update(event_points=F("event_points") - delta)


# Board order: more points first, then whoever reached that total earlier, then whoever registered
# first (an exact tie to the microsecond). Every participant with points has a place of its own;
# everyone on zero points shares the place after the last scorer. Rank is 1 + the number ahead.
#
# A solve only raises its participant, so only the participants it overtakes (strictly between its
# old place and its new one) move, each down one: one UPDATE over a range of the board index
# (event, disqualified, total_points DESC, last_solve_at), bounded by total_points so MariaDB walks
# and locks just that range. The riser's new rank is its old rank minus the rows that UPDATE
# matched, so no statement counts the board. From zero points the riser also leaves the shared
# place, so everyone still on zero moves down one too.
# (Counting everyone ahead instead costs a walk over the whole top of the board, 2-3 ms at 10,000
# participants; reading the rank of the participant right ahead makes MariaDB walk the index
# backwards from the bottom, slower still.)
BEHIND_NEW = """
  AND (total_points < %(new_total)s OR (total_points = %(new_total)s
       AND (last_solve_at > %(new_time)s OR (last_solve_at = %(new_time)s AND id > %(me)s))))"""
OVERTAKEN_SQL = (
    """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s
  AND total_points >= %(old_total)s AND total_points <= %(new_total)s
  AND (total_points > %(old_total)s OR (total_points = %(old_total)s
       AND (last_solve_at < %(old_time)s OR (last_solve_at = %(old_time)s AND id < %(me)s))))"""
    + BEHIND_NEW
)
FIRST_POINTS_SQL = (
    """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s
  AND total_points > 0 AND total_points <= %(new_total)s"""
    + BEHIND_NEW
)
ZERO_TIER_SQL = """
UPDATE event_participation SET `rank` = `rank` + 1
WHERE event_id = %(event)s AND disqualified = 0 AND id <> %(me)s AND total_points = 0
"""


def _rank_after_gain(event: Event, participation: EventParticipation, old_total: int, old_time) -> bool:
    """Move ranks after ``participation`` rose from (old_total, old_time) to its current key.

    Returns False, changing nothing, for a row whose old place is unknown (no rank, or points
    without a time: only hand-edited rows): the caller then recomputes the board. The caller
    holds the event lock (every rank writer does) and saves the new rank with the new total.
    """
    old_rank = participation.rank
    if old_rank is None or (old_total != 0 and old_time is None):
        return False
    adapt = connection.ops.adapt_datetimefield_value
    params = {
        "event": event.pk.hex,
        "me": participation.pk,
        "old_total": old_total,
        "old_time": adapt(old_time),
        "new_total": participation.total_points,
        "new_time": adapt(participation.last_solve_at),
    }
    with connection.cursor() as cursor:
        if old_total == 0:
            cursor.execute(ZERO_TIER_SQL, params)
            cursor.execute(FIRST_POINTS_SQL, params)
        else:
            cursor.execute(OVERTAKEN_SQL, params)
        participation.rank = old_rank - cursor.rowcount
    return True


BOARD_RANKS = """
SELECT id, RANK() OVER (
    ORDER BY total_points DESC,
             CASE WHEN total_points > 0 THEN last_solve_at END ASC,
             CASE WHEN total_points > 0 THEN id END ASC
) AS r
FROM event_participation WHERE event_id = %s AND disqualified = 0
"""
# MariaDB updates through a join; SQLite (the embedded default) through UPDATE ... FROM.
RANK_SQL = {  # built from constants only
    "mysql": f"UPDATE event_participation p JOIN ({BOARD_RANKS}) ranked ON ranked.id = p.id SET p.`rank` = ranked.r",  # noqa: S608
    "sqlite": f'UPDATE event_participation SET "rank" = ranked.r FROM ({BOARD_RANKS}) AS ranked '  # noqa: S608
    "WHERE ranked.id = event_participation.id",
}


def rank_recompute(*, event: Event) -> None:
    """Recompute every rank of ``event`` in one statement (after retroactive scoring or a disqualification)."""
    with connection.cursor() as cursor:
        cursor.execute(RANK_SQL[connection.vendor], [event.pk.hex])
    EventParticipation.objects.filter(event=event, disqualified=True).update(rank=None)


# --- Anti-cheat ---------------------------------------------------------------------------------


def participation_disqualify(*, participation: EventParticipation, actor, reason: str) -> EventParticipation:
    """Take a participant off the board (admin), with the reason in the audit log."""
    if not actor or not actor.is_platform_admin:
        raise PermissionDenied("Only admins may disqualify.")
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationFailed("Give the reason for the disqualification.", fields={"reason": ["Required."]})
    with transaction.atomic():
        event = _locked_event(participation.event)
        participation = EventParticipation.objects.select_for_update().get(pk=participation.pk)
        if participation.disqualified:
            raise Conflict("This participant is already disqualified.")
        participation.disqualified = True
        participation.disqualified_reason = reason.strip()[:500]
        participation.disqualified_at = timezone.now()
        participation.rank = None
        participation.save(update_fields=["disqualified", "disqualified_reason", "disqualified_at", "rank"])
        if participation.team_id:
            # The team's standing across events loses what it scored here.
            Team.objects.filter(pk=participation.team_id).update(
                event_points=F("event_points") - participation.total_points
            )
        rank_recompute(event=event)
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_DISQUALIFY,
            target=participation,
            details={
                "event": str(event.pk),
                "reason": participation.disqualified_reason,
                "points": participation.total_points,
            },
        )
        transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk))
    return participation


# --- Scoreboard push ----------------------------------------------------------------------------


def scoreboard_publish(*, event_id) -> None:
    """After a commit: drop the cached boards at once and push the new board from a task.

    The cache bump is one Redis call on the request path; building and sending the board runs in
    a task, so a solve never waits for the fan-out.
    """
    from apps.events import selectors

    try:
        selectors.scoreboard_invalidate(event_id=event_id)
    except Exception:
        logger.warning("scoreboard cache bump for event %s failed", event_id, exc_info=True)
    send_now("apps.events.tasks.scoreboard_push_task", str(event_id))


def scoreboard_push(*, event_id) -> None:
    """Send the current board to every open scoreboard page of the event; never fails."""
    from apps.events import selectors

    try:
        event = Event.objects.filter(pk=event_id).first()
        if event is None:
            return
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is None:
            return
        admin_board = selectors.scoreboard(event=event, admin=True)
        groups = [(selectors.scoreboard_group(event.pk, admin=True), admin_board)]
        if not event.is_frozen():
            # Before the freeze the public board is the admin board.
            groups.append((selectors.scoreboard_group(event.pk, admin=False), admin_board))

        async def send_all():
            for group, board in groups:
                await layer.group_send(group, {"type": "scoreboard.update", "board": board})

        async_to_sync(send_all)()
    except Exception:
        logger.warning("scoreboard push for event %s failed", event_id, exc_info=True)


def event_session_verify(*, event_session: EventSession) -> bool:
    """Return whether the stored answers still hash to the stored chain head."""
    return scoring.chain_head(event_session.answers or {}) == (event_session.answers_hash or "")
