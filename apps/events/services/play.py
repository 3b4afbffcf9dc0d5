"""Playing an event: its labs, answers and solves.

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
from django.utils.translation import gettext as _

from apps.environments.models import LIVE_STATUSES, EnvironmentSession
from apps.events import hooks, scoring, selectors
from apps.events.models import (
    EnvironmentMode,
    Event,
    EventParticipation,
    EventScenario,
    EventSession,
    EventSolve,
    ScoringMode,
)
from apps.events.prerequisites import event_prerequisites_require
from apps.events.services.ranking import apply_retroactive, rank_after_gain, rank_recompute
from apps.events.services.registration import event_register
from apps.events.services.scoreboard import scoreboard_publish
from apps.scenarios import grading
from apps.scenarios.selectors import version_content
from apps.teams.models import Team
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

logger = logging.getLogger(__name__)


# Two statements of the answer path in plain SQL. Django compiles every ORM query afresh, about
# 1 ms each on a small server, and these run under the event lock, where each millisecond is paid
# by every solver of the event in turn. (UUIDs go in as hex, which MariaDB and SQLite both read.)
LOCK_FOR_ANSWER_SQL = """
SELECT start_date, end_date, is_paused,
       EXISTS(SELECT 1 FROM event_scenario WHERE event_id = %(event)s AND scenario_version_id = %(version)s),
       (SELECT release_at FROM event_scenario WHERE event_id = %(event)s AND scenario_version_id = %(version)s)
FROM event WHERE id = %(event)s
"""

SOLVED_BEFORE_SQL = """
SELECT 1 FROM event_solve
WHERE event_id = %(event)s AND scenario_version_id = %(version)s AND question_id = %(question)s LIMIT 1
"""


def _lock_event_for_answer(event: Event, version_id) -> None:
    """Lock the event row, serialising its solves; refresh ``event``'s window and pause; check the challenge.

    One statement: the challenge checks are subqueries, which a locking read leaves unlocked. The
    rest of ``event`` is as the caller read it at the start of the request: an admin's change of
    the scoring rules takes effect from the next answer on, but a changed window, a pause or a
    release time binds at once.
    """
    try:
        version_hex = uuid.UUID(str(version_id)).hex
    except (ValueError, TypeError, AttributeError):
        raise NotFound(_("This event has no such challenge.")) from None
    sql = LOCK_FOR_ANSWER_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    with connection.cursor() as cursor:
        cursor.execute(sql, {"event": event.pk.hex, "version": version_hex})
        row = cursor.fetchone()
    if row is None or not row[3]:
        raise NotFound(_("This event has no such challenge."))
    convert = connection.ops.convert_datetimefield_value
    event.start_date, event.end_date = (convert(value, None, connection) for value in row[:2])
    event.is_paused = bool(row[2])
    release_at = convert(row[4], None, connection) if row[4] is not None else None
    _require_released(event, EventScenario(event=event, release_at=release_at))


def _solved_before(event: Event, version, question_id: str) -> bool:
    """Return whether anyone solved ``question_id`` of ``version`` in ``event`` (one index probe)."""
    with connection.cursor() as cursor:
        cursor.execute(SOLVED_BEFORE_SQL, {"event": event.pk.hex, "version": version.pk.hex, "question": question_id})
        return cursor.fetchone() is not None


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
        if event.is_team:
            raise PermissionDenied(_("This is a team event: your team's leader registers the team before you play."))
        if event.registration_required:
            raise PermissionDenied(_("Register for this event first."))
        participation = event_register(event=event, user=user, on_first_play=True)
    if participation.disqualified:
        raise PermissionDenied(_("You were disqualified from this event."))
    return participation


def _require_live(event: Event, what: str) -> None:
    now = timezone.now()
    if now < event.start_date:
        raise Conflict(
            _("The event has not started yet; %(what)s open at %(local_label)s.")
            % {"what": what, "local_label": event.local_label(event.start_date)}
        )
    if now >= event.end_date:
        raise Conflict(
            _("The event is over; %(what)s closed at %(local_label)s.")
            % {"what": what, "local_label": event.local_label(event.end_date)}
        )
    if event.is_paused:
        raise Conflict(_("The organisers paused the event; %(what)s are refused until it resumes.") % {"what": what})


def _require_released(event: Event, challenge: EventScenario) -> None:
    if not challenge.is_released():
        raise Conflict(
            _("This challenge is not released yet; it opens at %(local_label)s.")
            % {"local_label": event.local_label(challenge.release_at)}
        )


def _event_version(event: Event, version_id):
    row = (
        EventScenario.objects.filter(event=event, scenario_version_id=version_id)
        .select_related("scenario_version")
        .first()
    )
    if row is None:
        raise NotFound(_("This event has no such challenge."))
    _require_released(event, row)
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

    _require_live(event, _("challenges"))
    version = _event_version(event, version_id)
    _playing_participation(event, user)
    with transaction.atomic():
        participation = _locked_participation(event, user)
        event_prerequisites_require(event=event, participation=participation, version=version)
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
                raise Conflict(_("You already have a lab of this challenge running outside this event; stop it first."))
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
        raise Conflict(_("Start the lab of this challenge first."))
    return env


def _question(version, question_id):
    for question in version.questions or []:
        if question.get("id") == question_id:
            return question
    raise NotFound(_("This challenge has no question %(question_id)s.") % {"question_id": repr(question_id)})


def _grade(event_session: EventSession, version, user, question_id: str, answer) -> tuple[bool, Any, str]:
    """Grade through the lab's answer service, or directly for a version without machines."""
    if version.requires_machines:
        from apps.environments.services import env_session_grade_answer

        env = _lab_session(event_session, user)
        # The event checked membership; in a shared lab the teammate acts for the team, and is the
        # one a suspected flag sharing names.
        result = env_session_grade_answer(session=env, actor=user, question_id=question_id, answer=answer)
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
            raise PermissionDenied(_("Register for this event first.")) from None
    if participation.disqualified:
        raise PermissionDenied(_("You were disqualified from this event."))
    return participation


def event_submit_answer(*, event: Event, user, version_id, question_id: str, answer) -> dict[str, Any]:
    """Answer a challenge question; a correct answer scores for the participant (the whole team)."""
    if not isinstance(question_id, str) or not question_id:
        raise ValidationFailed(
            _("Name the question you answer."), fields={"question_id": [_("This field is required.")]}
        )
    _require_live(event, _("answers"))
    if not event.registration_required and participation_for(event=event, user=user) is None:
        _question(_event_version(event, version_id), question_id)  # a bad challenge registers nobody
        _playing_participation(event, user)
    with transaction.atomic():
        _lock_event_for_answer(event, version_id)
        _require_live(event, _("answers"))
        version = version_content(version_id=version_id)  # published content, cached in this process
        question = _question(version, question_id)
        participation = _locked_participation(event, user)
        event_prerequisites_require(event=event, participation=participation, version=version)
        event_session = _get_event_session(event, participation, version, user, save=False)
        if question_id in (event_session.answers or {}):
            who = "Your team has" if event.is_team else "You have"
            raise grading.AlreadySolved(_("%(who)s already solved this question.") % {"who": who})
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
                penalty=grading.hint_penalty(
                    question=question, state=state, hints=version.hints or [], hint_mode=version.hint_mode
                ),
            )
            message = _("Correct! %(points)s points.") % {"points": points}
        else:
            _save_event_session(event_session, ["attempt_states"])
        audit_record(
            actor=user,
            action=AuditAction.EVENT_ANSWER,
            target=event,
            details={"version": str(version.pk), "question": question_id, "correct": correct, "points": points},
        )
    # During a freeze the participant learns the frozen standing, as on the board.
    standing = selectors.standing_of(event=event, participation=participation)
    return {
        "question_id": question_id,
        "correct": correct,
        "message": message,
        "points": points,
        "total_points": standing["points"],
        "rank": standing["rank"],
    }


def _dynamic_value(event: Event, question: dict, solves_before: int) -> int:
    """Return a solve's value: the question's own dynamic scoring (a CTFd dynamic challenge), else the event's."""
    if isinstance(question.get("scoring"), dict):
        return grading.question_value(question, solves_before=solves_before)
    return scoring.dynamic_value(
        initial=event.dynamic_initial,
        minimum=event.dynamic_minimum,
        decay=event.dynamic_decay,
        solves_before=solves_before,
    )


def _record_solve(*, event, participation, event_session, version, question_id, user, answer, earned, penalty) -> int:
    """Write the solve, the hash chain, the totals and the ranks; all inside the caller's transaction.

    A dynamic question is worth its current value less the hints taken for it (never below 0), as a
    static one is worth its points less those hints (``earned``, from grading).
    """
    now = timezone.now()
    retro_delta = 0
    question = next((q for q in version.questions or [] if q.get("id") == question_id), {})
    if isinstance(question.get("scoring"), dict) or event.scoring_mode == ScoringMode.DYNAMIC:
        earlier = EventSolve.objects.filter(event=event, scenario_version=version, question_id=question_id)
        solves_before = earlier.count()
        value = _dynamic_value(event, question, solves_before)
        if event.dynamic_retroactive and solves_before:
            retro_delta = _dynamic_value(event, question, solves_before - 1) - value
        value = max(0, value - penalty)
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
        ranked = rank_after_gain(event, participation, old_total, old_time)
    participation.save(update_fields=["total_points", "challenges_completed", "last_solve_at", "rank"])
    if participation.team_id:
        Team.objects.filter(pk=participation.team_id).update(event_points=F("event_points") + points)
    if retro_delta:
        apply_retroactive(event, version, question_id, participation, retro_delta)
    if retro_delta or not ranked:
        rank_recompute(event=event)
        participation.refresh_from_db(fields=["rank"])
    # A solve during the freeze leaves the frozen boards (and first-blood badges, which show on
    # public profiles) as they are; the badges are evaluated when the event ends.
    frozen = event.is_frozen(now)
    transaction.on_commit(lambda: scoreboard_publish(event_id=event.pk, frozen_too=not frozen))
    if first_blood and user is not None and not frozen:
        transaction.on_commit(lambda: hooks.first_blood.send(user_id=user.pk))
    return points


def event_take_hint(*, event: Event, user, version_id, hint_id: str) -> dict[str, Any]:
    """Reveal a hint of a challenge; in penalty mode its cost comes off that question's points when solved.

    A lab challenge's hints are taken in the lab (the participant's own, or the team's shared one);
    a challenge without machines keeps them with the team's answers.
    """
    if not isinstance(hint_id, str) or not hint_id:
        raise ValidationFailed(_("Name the hint you take."), fields={"hint_id": [_("This field is required.")]})
    _require_live(event, _("hints"))
    version = _event_version(event, version_id)
    _playing_participation(event, user)
    hint = next((h for h in version.hints or [] if h.get("id") == hint_id), None)
    if hint is None:
        raise NotFound(_("This challenge has no hint %(hint_id)s.") % {"hint_id": repr(hint_id)})
    question = _question(version, hint.get("question_id"))
    with transaction.atomic():
        participation = _locked_participation(event, user)
        event_session = _get_event_session(event, participation, version, user, save=False)
        if question["id"] in (event_session.answers or {}):
            who = "Your team has" if event.is_team else "You have"
            raise grading.AlreadySolved(
                _("%(who)s already solved this question; the hint would not help.") % {"who": who}
            )
        if version.requires_machines:
            from apps.environments.services import env_session_take_hint

            result = env_session_take_hint(session=_lab_session(event_session, user), actor=user, hint_id=hint_id)
            state = result["state"]
        else:
            states = dict(event_session.attempt_states or {})
            state = grading.take_hint(
                question=question, state=states.get(question["id"]), hint=hint, hint_mode=version.hint_mode
            )
            states[question["id"]] = state
            event_session.attempt_states = states
            _save_event_session(event_session, ["attempt_states"])
        audit_record(
            actor=user,
            action=AuditAction.EVENT_HINT,
            target=event,
            details={"version": str(version.pk), "hint": hint_id, "cost": hint.get("cost", 0)},
        )
    return {"hint_id": hint_id, "text": hint.get("text", ""), "cost": hint.get("cost", 0), "state": state}


def event_lab_answer(*, session, actor, question_id: str, answer) -> dict[str, Any] | None:
    """An ``environments.session_answer`` receiver: an answer given on an event lab's page scores in the event.

    Return what the lab page shows (the lab's answer state and the event's message), or None for a
    lab that belongs to no event.
    """
    event = Event.objects.filter(pk=session.event_id).first() if session.event_id else None
    if event is None or actor is None:
        return None
    result = event_submit_answer(
        event=event, user=actor, version_id=session.scenario_version_id, question_id=question_id, answer=answer
    )
    session.refresh_from_db(fields=["answers", "score", "completed_at"])
    state = dict((session.answers or {}).get(question_id) or {})
    state["correct"] = result["correct"]
    return {
        "question_id": question_id,
        "state": state,
        "message": result["message"],
        "score": session.score,
        "completed": session.completed_at is not None,
        "event": {"points": result["points"], "total_points": result["total_points"], "rank": result["rank"]},
    }


def event_lab_answer_accepted(*, session_id, question_id: str, actor) -> None:
    """An ``environments.answer_accepted`` receiver: a reviewer accepted a free-text answer of an event lab.

    The solve reaches the event's board as an answer graded correct at once would have (points,
    first blood, ranks, the scoreboard push), even after the event ended: the answer was given
    in time and only waited for a person. A question the participant already solved, a
    participant disqualified or gone, or a lab of no event is left alone.
    """
    session = EnvironmentSession.objects.filter(pk=session_id).select_related("user").first()
    event = Event.objects.filter(pk=session.event_id).first() if session and session.event_id else None
    if event is None:
        return
    state = (session.answers or {}).get(question_id) or {}
    if not state.get("correct"):
        return
    with transaction.atomic():
        _lock_event_for_answer(event, session.scenario_version_id)
        version = version_content(version_id=session.scenario_version_id)
        question = _question(version, question_id)
        try:
            participation = _locked_participation(event, session.user)
        except PermissionDenied:
            return
        event_session = _get_event_session(event, participation, version, session.user, save=False)
        if question_id in (event_session.answers or {}):
            return
        points = _record_solve(
            event=event,
            participation=participation,
            event_session=event_session,
            version=version,
            question_id=question_id,
            user=session.user,
            answer=state.get("submitted_answer"),
            earned=int(state.get("earned_points") or 0),
            penalty=grading.hint_penalty(
                question=question, state=state, hints=version.hints or [], hint_mode=version.hint_mode
            ),
        )
        audit_record(
            actor=actor,
            action=AuditAction.EVENT_ANSWER,
            target=event,
            details={
                "version": str(version.pk), "question": question_id, "correct": True, "points": points,
                "reviewed": True,
            },
        )  # fmt: skip
