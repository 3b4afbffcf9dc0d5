"""A question-only scenario answered without a lab counts for paths and badges, through the completion hooks."""

import pytest

from apps.accounts.factories import AdminFactory, UserFactory
from apps.badges import services as badge_services
from apps.badges.models import UserBadge
from apps.environments import services as env_services
from apps.environments.factories import quiz_version
from apps.paths import selectors
from apps.paths.factories import career_path
from rangex.core.models import Notification

pytestmark = pytest.mark.django_db


def test_answering_a_question_only_scenario_completes_the_path_and_awards_the_badge(
    django_capture_on_commit_callbacks,
):
    version = quiz_version()
    path = career_path(versions=[version])
    badge = badge_services.badge_create(
        actor=AdminFactory(), name="Quiz master", description="Well done.",
        requirements=[{"requirement_type": "complete_scenario", "scenario": version}],
    )  # fmt: skip
    user = UserFactory()
    session = env_services.env_session_start(user=user, version=version)
    with django_capture_on_commit_callbacks(execute=True):
        env_services.env_session_submit_answer(session=session, actor=user, question_id="q1", answer="RX{quiz}")
        env_services.env_session_submit_answer(session=session, actor=user, question_id="q2", answer="1")

    path = selectors.career_path_get_for_user(user=user, pk=path.pk)
    progress = selectors.progress_for_many(user=user, containers=[path])[path.pk]
    assert progress.is_complete and progress.percent == 100
    assert Notification.objects.filter(user=user, title=f"Path completed: {path.title}").count() == 1
    assert UserBadge.objects.filter(user=user, badge=badge).exists()
