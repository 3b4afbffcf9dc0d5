"""A learner's standing per question, written as they answer and carried into their next lab.

Every graded answer, taken hint and reviewed answer of a practice lab (not an event's lab, not a
test deploy) is copied to ``LearnerQuestionProgress``; a new lab of the same scenario starts with
the standing of every question whose id and fingerprint match (``apps.environments.progress``).
A solved question is never un-solved by a later, worse state (two labs of one learner may race).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.environments.models import EnvironmentSession, LearnerQuestionProgress
from apps.environments.progress import counts_for_progress, is_complete, learner_states, question_fingerprint
from apps.scenarios import grading


def _solved_at(state: dict):
    if not state.get("correct"):
        return None
    return parse_datetime(str(state.get("solved_at") or "")) or timezone.now()


def learner_progress_record(*, session: EnvironmentSession, question: dict, state: dict) -> None:
    """Store ``state`` as the session's learner's standing on ``question`` (inside the caller's transaction)."""
    if not counts_for_progress(session):
        return
    key = {
        "user_id": session.user_id,
        "scenario_id": session.scenario_version.scenario_id,
        "question_id": question["id"],
        "fingerprint": question_fingerprint(question),
    }
    values = {
        "state": state,
        "solved_at": _solved_at(state),
        "points": int(state.get("earned_points") or 0),
        "last_session_id": session.pk,
    }
    row = LearnerQuestionProgress.objects.select_for_update().filter(**key).first()
    if row is None:
        try:
            with transaction.atomic():
                LearnerQuestionProgress.objects.create(**key, **values)
            return
        except IntegrityError:
            row = LearnerQuestionProgress.objects.select_for_update().get(**key)
    if row.solved_at is not None and not state.get("correct"):
        return
    for name, value in values.items():
        setattr(row, name, value)
    row.save(update_fields=[*values, "updated_at"])


def learner_answers(*, session: EnvironmentSession) -> dict:
    """Return the session's answer states, filled in with its learner's earlier standing where it has none.

    A lab started before another lab of the same learner solved something still counts that solve.
    """
    answers = dict(session.answers or {})
    if not counts_for_progress(session):
        return answers
    version = session.scenario_version
    earlier = learner_states(user=session.user, scenario_id=version.scenario_id, questions=version.questions)
    return {**earlier, **answers}


def env_session_carry_progress(*, session: EnvironmentSession) -> bool:
    """Give a new practice lab its learner's earlier standing; return whether that completes it.

    Saves the answers and score on ``session`` (inside the caller's transaction); the caller sets
    ``completed_at`` and tells the completion hooks, as after a last answer.
    """
    if not counts_for_progress(session):
        return False
    version = session.scenario_version
    earlier = learner_states(user=session.user, scenario_id=version.scenario_id, questions=version.questions)
    if not earlier:
        return False
    answers = {**earlier, **(session.answers or {})}
    session.answers = answers
    session.score = grading.score_of(answers.values())
    fields = ["answers", "score"]
    completed = session.completed_at is None and is_complete(version, answers)
    if completed:
        session.completed_at = timezone.now()
        fields.append("completed_at")
    session.save(update_fields=fields)
    return completed
