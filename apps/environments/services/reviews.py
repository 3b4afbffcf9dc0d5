"""Free-text answers wait for a person: the scenario's creator or a platform admin accepts or rejects them.

A decision rescores the session (and may complete it), tells the solver with a notification, and
pushes the new score to the session page.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.environments import hooks
from apps.environments.models import EnvironmentSession
from apps.environments.selectors import env_answer_reviewer_may
from apps.environments.services.answers import _is_complete, _question, _session_completed
from apps.environments.services.common import push, session_locked
from apps.environments.services.progress import learner_progress_record
from apps.scenarios import grading
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, PermissionDenied, ValidationFailed
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send

logger = logging.getLogger(__name__)

MAX_COMMENT_LENGTH = 2000


def env_answer_review(
    *, session: EnvironmentSession, question_id: str, accepted: bool, comment: str = "", actor
) -> dict[str, Any]:
    """Accept or reject the free-text answer of ``question_id`` waiting in ``session``; return its new state."""
    if not env_answer_reviewer_may(user=actor, session=session):
        raise PermissionDenied(_("Only the scenario's creator or an admin may review its answers."))
    if not isinstance(accepted, bool):
        raise ValidationFailed(_("Accept or reject the answer."), fields={"accepted": [_("Give true or false.")]})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        message = _("Keep the comment under %(MAX_COMMENT_LENGTH)s characters.") % {
            "MAX_COMMENT_LENGTH": MAX_COMMENT_LENGTH
        }
        raise ValidationFailed(message, fields={"comment": [message]})
    with transaction.atomic():
        session = session_locked(session)
        version = session.scenario_version
        question = _question(version, question_id)
        answers = dict(session.answers or {})
        state = answers.get(question_id)
        if not state or not state.get("pending_review"):
            raise Conflict(_("This answer is not waiting for review."))
        new = grading.review_free_text(
            question=question, state=state, accepted=accepted, hint_mode=version.hint_mode, hints=version.hints or []
        )
        new["review"] = {"accepted": accepted, "comment": comment, "at": timezone.now().isoformat()}
        if new.get("correct"):
            new["solved_at"] = new["review"]["at"]
        answers[question_id] = new
        learner_progress_record(session=session, question=question, state=new)
        session.answers = answers
        session.score = grading.score_of(answers.values())
        session.version += 1
        fields = ["answers", "score", "version"]
        completed = session.completed_at is None and _is_complete(version, answers)
        if completed:
            session.completed_at = timezone.now()
            fields.append("completed_at")
        session.save(update_fields=fields)
        audit_record(
            actor=actor,
            action=AuditAction.SESSION_ANSWER_REVIEWED,
            target=session,
            details={"question": question_id, "accepted": accepted},
        )
        notification_send(
            user=session.user,
            type=NotificationType.SESSION,
            title=format_lazy(
                gettext_lazy("Your answer in {title} was accepted")
                if accepted
                else gettext_lazy("Your answer in {title} was not accepted"),
                title=version.title,
            ),
            body=comment,
            link=reverse("environments:detail", args=[session.pk]),
        )
        score = session.score
        transaction.on_commit(lambda: push(session.pk, {"type": "score", "score": score}))
        transaction.on_commit(lambda: push(session.pk, {"type": "review", "question_id": question_id}))
        if completed:
            transaction.on_commit(lambda: _session_completed(session.pk))
        if accepted and session.event_id is not None:
            transaction.on_commit(lambda: _answer_accepted(session.pk, question_id, actor))
    return {"question_id": question_id, "state": new, "score": session.score}


def _answer_accepted(session_id, question_id: str, actor) -> None:
    """Tell the higher apps (events) that an event lab's free-text answer was accepted."""
    for receiver in hooks.answer_accepted.receivers:
        try:
            receiver(session_id=session_id, question_id=question_id, actor=actor)
        except Exception:
            logger.exception("answer_accepted receiver %s failed for session %s", receiver, session_id)
