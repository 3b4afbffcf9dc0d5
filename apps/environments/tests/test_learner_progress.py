"""Progress per learner, not per lab: solved questions stay solved across labs and unchanged versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.accounts.factories import AdminFactory, UserFactory
from apps.environments import services
from apps.environments.factories import QUIZ_QUESTIONS, quiz_version
from apps.environments.models import LearnerQuestionProgress
from apps.environments.progress import learner_scenario_percent, learner_stats, question_fingerprint
from apps.scenarios import services as scenario_services

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("publish_gate_off")]

THREE = [
    *[dict(q) for q in QUIZ_QUESTIONS],
    {"id": "q3", "type": "numeric", "prompt": "2 + 2?", "points": 5, "answer": 4, "tolerance": 0},
]


def _stop(session, user):
    services.env_session_stop(session=session, actor=user)
    services.env_session_teardown(session_id=session.pk)


def test_a_second_lab_starts_with_the_earlier_answers_score_and_hints_then_completes(
    django_capture_on_commit_callbacks,
):
    user = UserFactory()
    version = quiz_version(questions=[dict(q) for q in THREE])
    first = services.env_session_start(user=user, version=version)
    services.env_session_take_hint(session=first, actor=user, hint_id="h1")
    services.env_session_submit_answer(session=first, actor=user, question_id="q1", answer="RX{quiz}")
    services.env_session_submit_answer(session=first, actor=user, question_id="q2", answer="1")
    _stop(first, user)
    assert learner_scenario_percent(user=user, versions=[version]) == {version.scenario_id: 66}

    second = services.env_session_start(user=user, version=version)
    second.refresh_from_db()
    assert second.pk != first.pk
    assert second.answers["q1"]["correct"] and second.answers["q1"]["hints_taken"] == ["h1"]
    assert second.answers["q2"]["correct"] and "q3" not in second.answers
    assert second.score == 55 and second.completed_at is None

    with django_capture_on_commit_callbacks(execute=True):
        last = services.env_session_submit_answer(session=second, actor=user, question_id="q3", answer="4")
    assert last["completed"] and last["score"] == 60
    assert learner_scenario_percent(user=user, versions=[version]) == {version.scenario_id: 100}


def test_a_solved_question_is_not_answered_again_in_a_later_lab():
    from rangex.core.errors import Conflict

    user = UserFactory()
    version = quiz_version()
    first = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=first, actor=user, question_id="q1", answer="RX{quiz}")
    _stop(first, user)
    second = services.env_session_start(user=user, version=version)
    with pytest.raises(Conflict):
        services.env_session_submit_answer(session=second, actor=user, question_id="q1", answer="RX{quiz}")


def test_a_new_version_keeps_unchanged_questions_and_resets_changed_ones():
    user, admin = UserFactory(), AdminFactory()
    version = quiz_version(admin=admin)
    first = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=first, actor=user, question_id="q1", answer="RX{quiz}")
    services.env_session_submit_answer(session=first, actor=user, question_id="q2", answer="1")
    _stop(first, user)

    creator = version.scenario.created_by_user
    draft = scenario_services.scenario_version_new(source=version, actor=creator)
    changed = [dict(q) for q in QUIZ_QUESTIONS]
    changed[0]["points"] = 80  # re-priced: still the same question
    changed[1]["prompt"] = "Which port does SSH listen on by default?"  # reworded: asked again
    scenario_services.scenario_version_update(version=draft, actor=creator, data={"questions": changed})
    scenario_services.scenario_version_submit(version=draft, actor=creator)
    scenario_services.scenario_version_approve(version=draft, actor=admin)
    newer = scenario_services.scenario_version_publish(version=draft, actor=admin)

    second = services.env_session_start(user=user, version=newer)
    second.refresh_from_db()
    assert second.answers["q1"]["correct"] and "q2" not in second.answers
    assert learner_scenario_percent(user=user, versions=[newer]) == {newer.scenario_id: 50}
    assert question_fingerprint(changed[0]) == question_fingerprint(QUIZ_QUESTIONS[0])
    assert question_fingerprint(changed[1]) != question_fingerprint(QUIZ_QUESTIONS[1])


def test_test_deploys_neither_record_nor_receive_progress():
    admin = AdminFactory()
    version = quiz_version()
    test_run = services.env_session_start(user=admin, version=version, is_test=True)
    services.env_session_submit_answer(session=test_run, actor=admin, question_id="q1", answer="RX{quiz}")
    assert not LearnerQuestionProgress.objects.filter(user=admin).exists()


def test_a_solve_is_recorded_with_its_points_and_time():
    user = UserFactory()
    version = quiz_version()
    a = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=a, actor=user, question_id="q1", answer="RX{quiz}")
    row = LearnerQuestionProgress.objects.get(user=user, question_id="q1")
    assert row.solved_at is not None and row.points == 50


def test_streak_counts_days_with_a_solve_and_points_add_up():
    user = UserFactory()
    version = quiz_version(questions=[dict(q) for q in THREE])
    start = timezone.now().replace(hour=12)
    with time_machine.travel(start - timedelta(days=2), tick=False):
        lab = services.env_session_start(user=user, version=version)
        services.env_session_submit_answer(session=lab, actor=user, question_id="q1", answer="RX{quiz}")
        _stop(lab, user)
    with time_machine.travel(start - timedelta(days=1), tick=False):
        lab = services.env_session_start(user=user, version=version)
        services.env_session_submit_answer(session=lab, actor=user, question_id="q2", answer="1")
        _stop(lab, user)
    with time_machine.travel(start, tick=False):
        stats = learner_stats(user=user)
        assert stats.streak_days == 2 and not stats.solved_today and stats.points == 60 and stats.solved == 2
        lab = services.env_session_start(user=user, version=version)
        services.env_session_submit_answer(session=lab, actor=user, question_id="q3", answer="4")
        stats = learner_stats(user=user)
        assert stats.streak_days == 3 and stats.solved_today and stats.points == 65
    with time_machine.travel(start + timedelta(days=3), tick=False):
        assert learner_stats(user=user).streak_days == 0


def test_event_labs_keep_their_own_scoring_and_leave_practice_progress_alone():
    import uuid

    from apps.environments.models import EnvironmentSession
    from apps.environments.services.progress import env_session_carry_progress, learner_progress_record

    user = UserFactory()
    version = quiz_version()
    practice = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=practice, actor=user, question_id="q1", answer="RX{quiz}")
    # An event's lab (its rows are made by the events app; the rule needs only the event id).
    event_lab = EnvironmentSession(user=user, scenario_version=version, event_id=uuid.uuid4(), answers={})
    learner_progress_record(session=event_lab, question=version.questions[1], state={"correct": True})
    assert not LearnerQuestionProgress.objects.filter(user=user, question_id="q2").exists()
    assert env_session_carry_progress(session=event_lab) is False and event_lab.answers == {}


def test_the_backfill_migration_rebuilds_progress_from_earlier_labs():
    import importlib

    from django.apps import apps as django_apps

    backfill = importlib.import_module("apps.environments.migrations.0010_learner_progress_backfill").backfill
    user = UserFactory()
    version = quiz_version()
    lab = services.env_session_start(user=user, version=version)
    services.env_session_submit_answer(session=lab, actor=user, question_id="q1", answer="RX{quiz}")
    services.env_session_submit_answer(session=lab, actor=user, question_id="q2", answer="0")
    LearnerQuestionProgress.objects.all().delete()
    backfill(django_apps, None)
    rows = {r.question_id: r for r in LearnerQuestionProgress.objects.filter(user=user)}
    assert rows["q1"].solved_at is not None and rows["q1"].points == 50
    assert rows["q2"].solved_at is None and rows["q2"].state["remaining_attempts"] == 0
    assert rows["q1"].fingerprint == question_fingerprint(version.questions[0])
