"""Path progress counts a learner's solves across labs; the path-completed notice is filed under paths."""

from __future__ import annotations

import pytest

from apps.accounts.factories import UserFactory
from apps.environments import services as env_services
from apps.environments.factories import QUIZ_QUESTIONS, quiz_version
from apps.paths import selectors
from apps.paths.factories import career_path
from rangex.core.models import Notification

pytestmark = pytest.mark.django_db

THREE = [
    *[dict(q) for q in QUIZ_QUESTIONS],
    {"id": "q3", "type": "numeric", "prompt": "2 + 2?", "points": 5, "answer": 4, "tolerance": 0},
]


def _progress(path, user):
    path = selectors.career_path_get_for_user(user=user, pk=path.pk)
    return selectors.progress_for_many(user=user, containers=[path])[path.pk]


def _answer(user, version, *pairs):
    session = env_services.env_session_start(user=user, version=version)
    for question_id, answer in pairs:
        env_services.env_session_submit_answer(session=session, actor=user, question_id=question_id, answer=answer)
    env_services.env_session_stop(session=session, actor=user)
    env_services.env_session_teardown(session_id=session.pk)


def test_a_path_completes_when_its_questions_are_solved_over_several_labs(django_capture_on_commit_callbacks):
    user = UserFactory()
    first, second = quiz_version(questions=[dict(q) for q in THREE]), quiz_version()
    path = career_path(versions=[first, second], title="First Steps")

    _answer(user, first, ("q1", "RX{quiz}"), ("q2", "1"))
    progress = _progress(path, user)
    assert [i.percent for i in progress.items] == [66, 0] and progress.completed_count == 0

    with django_capture_on_commit_callbacks(execute=True):
        _answer(user, first, ("q3", "4"))
    progress = _progress(path, user)
    assert progress.items[0].completed and progress.completed_count == 1
    assert progress.next_item.scenario_version == second

    with django_capture_on_commit_callbacks(execute=True):
        _answer(user, second, ("q1", "RX{quiz}"), ("q2", "1"))
    assert _progress(path, user).is_complete
    notice = Notification.objects.get(user=user, title="Path completed: First Steps")
    assert notice.type == "path"
