"""Answers and hints inside a session, with per-session flags, sharing checks and completion."""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.environments import hooks, launch
from apps.environments.models import (
    EnvironmentSession,
    FlagShareSuspicion,
    SessionStatus,
)
from apps.environments.progress import is_complete as _is_complete
from apps.environments.services.common import (
    SHARING_LOOKBACK_DAYS,
    push,
    require_access,
    session_locked,
)
from apps.environments.services.progress import learner_answers, learner_progress_record
from apps.scenarios import grading
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import (
    Conflict,
    NotFound,
    ValidationFailed,
)

logger = logging.getLogger(__name__)


def _question(version, question_id: str) -> dict[str, Any]:
    for question in version.questions or []:
        if question.get("id") == question_id:
            return question
    raise NotFound(_("This scenario has no question %(question_id)s.") % {"question_id": repr(question_id)})


def _expected_flag(session, question) -> str | None:
    if launch.is_dynamic_flag(question):
        return launch.session_flag(session_id=session.pk, question_id=question["id"])
    return None


def _record_sharing(session, question, answer: str, submitted_by) -> None:
    """If ``answer`` is another session's dynamic flag for this question, record suspected sharing."""
    since = timezone.now() - timedelta(days=SHARING_LOOKBACK_DAYS)
    others = (
        EnvironmentSession.objects.filter(scenario_version_id=session.scenario_version_id, created_at__gte=since)
        .exclude(pk=session.pk)
        .values_list("pk", flat=True)
    )
    submitted = str(answer).strip()
    for other_id in others.iterator():
        flag = launch.session_flag(session_id=other_id, question_id=question["id"])
        if hmac.compare_digest(flag.encode(), submitted.encode()):
            FlagShareSuspicion.objects.create(
                session=session, owner_session_id=other_id, question_id=question["id"], submitted_by=submitted_by
            )
            audit_record(
                actor=submitted_by,
                action=AuditAction.SESSION_FLAG_SHARED,
                target=session,
                details={"question": question["id"], "owner_session": str(other_id)},
            )
            return


def env_session_submit_answer(*, session: EnvironmentSession, actor, question_id: str, answer) -> dict[str, Any]:
    """Answer a question of ``session``; in an event's lab the event scores it (``hooks.session_answer``)."""
    require_access(session, actor)
    if session.event_id is not None:
        routed = hooks.session_answer.first(session=session, actor=actor, question_id=question_id, answer=answer)
        if routed is not None:
            return routed
    return env_session_grade_answer(session=session, actor=actor, question_id=question_id, answer=answer)


def env_session_grade_answer(*, session: EnvironmentSession, actor, question_id: str, answer) -> dict[str, Any]:
    """Grade ``answer`` with the attempt limits; store the answer state and score; complete when done."""
    require_access(session, actor)
    if not isinstance(question_id, str) or not question_id:
        raise ValidationFailed(
            _("Name the question you answer."), fields={"question_id": [_("This field is required.")]}
        )
    with transaction.atomic():
        session = session_locked(session)
        if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
            raise Conflict(_("Answers are accepted only while the session is running."))
        version = session.scenario_version
        question = _question(version, question_id)
        answers = learner_answers(session=session)
        state = answers.get(question_id) or grading.new_answer_state(question)
        result = grading.grade(
            question=question,
            state=state,
            answer=answer,
            scoring_mode=version.scoring_mode,
            hint_mode=version.hint_mode,
            hints=version.hints or [],
            expected_flag=_expected_flag(session, question),
        )
        if result.state.get("correct") and not state.get("correct"):
            # When it was solved: the session page names each question's first solver by it.
            result.state["solved_at"] = timezone.now().isoformat()
        answers[question_id] = result.state
        learner_progress_record(session=session, question=question, state=result.state)
        session.answers = answers
        session.score = grading.score_of(answers.values())
        session.last_activity_at = timezone.now()
        session.version += 1
        fields = ["answers", "score", "last_activity_at", "version"]
        completed = session.completed_at is None and _is_complete(version, answers)
        if completed:
            session.completed_at = timezone.now()
            fields.append("completed_at")
        session.save(update_fields=fields)
        if not result.state.get("correct") and question.get("dynamic"):
            _record_sharing(session, question, answer, actor or session.user)
        audit_record(
            actor=actor,
            action=AuditAction.SESSION_ANSWER,
            target=session,
            details={"question": question_id, "correct": bool(result.state.get("correct"))},
        )
        if completed:
            transaction.on_commit(lambda: _session_completed(session.pk))
    push(session.pk, {"type": "score", "score": session.score})
    return {
        "question_id": question_id,
        "state": result.state,
        "message": result.message,
        "score": session.score,
        "completed": session.completed_at is not None,
    }


def env_session_take_hint(*, session: EnvironmentSession, actor, hint_id: str) -> dict[str, Any]:
    """Reveal a hint; in penalty mode its cost comes off that question's reward when it is solved."""
    require_access(session, actor)
    with transaction.atomic():
        session = session_locked(session)
        if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
            raise Conflict(_("Hints are available only while the session is running."))
        version = session.scenario_version
        hint = next((h for h in version.hints or [] if h.get("id") == hint_id), None)
        if hint is None:
            raise NotFound(_("This scenario has no hint %(hint_id)s.") % {"hint_id": repr(hint_id)})
        question = _question(version, hint["question_id"])
        answers = learner_answers(session=session)
        state = answers.get(question["id"]) or grading.new_answer_state(question)
        answers[question["id"]] = grading.take_hint(
            question=question, state=state, hint=hint, hint_mode=version.hint_mode
        )
        learner_progress_record(session=session, question=question, state=answers[question["id"]])
        session.answers = answers
        session.score = grading.score_of(answers.values())
        session.version += 1
        session.save(update_fields=["answers", "score", "version"])
        audit_record(actor=actor, action=AuditAction.SESSION_HINT, target=session, details={"hint": hint_id})
    return {"hint_id": hint_id, "text": hint["text"], "cost": hint.get("cost", 0), "state": answers[question["id"]]}


def _session_completed(session_id) -> None:
    """Tell the higher apps (paths, badges) that a session completed; one failing receiver spares the rest."""
    for receiver in hooks.session_completed.receivers:
        try:
            receiver(session_id=session_id)
        except Exception:
            logger.exception("completion receiver %s failed for session %s", receiver, session_id)
