import threading
import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.accounts.factories import AdminFactory, UserFactory
from apps.badges import awards, event_rules, hooks, services
from apps.badges.models import UserBadge
from apps.paths.factories import answer_all, career_path, completed_session_row, running_session
from apps.scenarios.factories import published_version
from rangex.core.errors import PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db


def _badge(*requirements, name=None, admin=None):
    return services.badge_create(
        actor=admin or AdminFactory(), name=name or f"Badge {uuid.uuid4().hex[:6]}", description="Well done.",
        requirements=list(requirements),
    )  # fmt: skip


def _earned(user, badge) -> bool:
    return UserBadge.objects.filter(user=user, badge=badge).exists()


def test_complete_scenario_counts_any_version():
    v = published_version()
    badge = _badge({"requirement_type": "complete_scenario", "scenario": v})
    user = UserFactory()
    assert services.badges_evaluate_for(user=user, trigger="test") == []
    completed_session_row(user=user, version=v)
    [award] = services.badges_evaluate_for(user=user, trigger="test")
    assert award.badge == badge
    assert Notification.objects.filter(user=user, title=f"Badge earned: {badge.name}").count() == 1
    assert AuditLog.objects.filter(action_type="badge.award", target_id=str(award.pk)).exists()


def test_complete_count_with_category_and_difficulty():
    web = [published_version(category="web") for _ in range(2)]
    crypto = published_version(category="crypto")
    any_two = _badge({"requirement_type": "complete_count", "count": 2})
    two_web = _badge({"requirement_type": "complete_count", "count": 2, "category": "Web"})
    hard = _badge({"requirement_type": "complete_count", "count": 1, "difficulty": "EXPERT"})
    user = UserFactory()
    completed_session_row(user=user, version=web[0])
    completed_session_row(user=user, version=web[0])  # a repeat is one scenario
    completed_session_row(user=user, version=crypto)
    services.badges_evaluate_for(user=user, trigger="test")
    assert _earned(user, any_two) and not _earned(user, two_web) and not _earned(user, hard)
    completed_session_row(user=user, version=web[1])
    services.badges_evaluate_for(user=user, trigger="test")
    assert _earned(user, two_web) and not _earned(user, hard)


def test_min_score_uses_the_best_session_of_the_scenario():
    v = published_version()
    badge = _badge({"requirement_type": "min_score", "scenario": v, "min_score": 50})
    user = UserFactory()
    completed_session_row(user=user, version=v, score=40)
    services.badges_evaluate_for(user=user, trigger="test")
    assert not _earned(user, badge)
    completed_session_row(user=user, version=v, score=55, completed=False)
    services.badges_evaluate_for(user=user, trigger="test")
    assert _earned(user, badge)


def test_complete_path_and_all_requirements_must_hold():
    a, b = published_version(), published_version()
    path = career_path(versions=[a, b])
    badge = _badge({"requirement_type": "complete_path", "career_path": path})
    combo = _badge({"requirement_type": "complete_path", "career_path": path},
                   {"requirement_type": "min_score", "scenario": a, "min_score": 100})  # fmt: skip
    user = UserFactory()
    completed_session_row(user=user, version=a)
    services.badges_evaluate_for(user=user, trigger="test")
    assert not _earned(user, badge)
    completed_session_row(user=user, version=b)
    services.badges_evaluate_for(user=user, trigger="test")
    assert _earned(user, badge) and not _earned(user, combo)


def test_event_requirements_are_not_met_while_the_events_app_has_no_events():
    user = UserFactory()
    event_id = uuid.uuid4()
    assert event_rules.event_top_n_met(user=user, event_id=event_id, n=3) is False
    assert event_rules.event_first_blood_met(user=user, event_id=event_id) is False
    # A requirement naming an event that does not exist is refused when the badge is saved.
    for kind, extra in (("event_top_n", {"count": 3}), ("event_first_blood", {})):
        with pytest.raises(ValidationFailed, match="No event"):
            _badge({"requirement_type": kind, "event_id": event_id, **extra})


@pytest.mark.parametrize(
    ("requirement", "message"),
    [
        ({"requirement_type": "complete_scenario", "scenario": uuid.uuid4()}, "No scenario version"),
        ({"requirement_type": "complete_scenario"}, "needs scenario"),
        ({"requirement_type": "complete_count"}, "needs count"),
        ({"requirement_type": "complete_count", "count": 0}, "count of at least 1"),
        ({"requirement_type": "complete_count", "count": 2, "min_score": 3}, "does not use min score"),
        ({"requirement_type": "nonsense"}, "Unknown requirement type"),
        ({"requirement_type": "complete_path"}, "needs career path"),
    ],
)
def test_bad_requirements_are_refused_when_the_badge_is_saved(requirement, message):
    from apps.badges.models import Badge

    with pytest.raises(ValidationFailed, match=message):
        _badge(requirement, name="Broken")
    assert not Badge.objects.filter(name="Broken").exists()


def test_only_admins_define_badges():
    with pytest.raises(PermissionDenied):
        services.badge_create(actor=UserFactory(), name="x", requirements=[{"requirement_type": "complete_count",
                                                                             "count": 1}])  # fmt: skip


def test_completion_through_the_session_services_awards_on_commit(django_capture_on_commit_callbacks):
    v = published_version()
    badge = _badge({"requirement_type": "complete_scenario", "scenario": v})
    user = UserFactory()
    session = running_session(user=user, version=v)
    with django_capture_on_commit_callbacks(execute=True):
        answer_all(session=session)
    assert _earned(user, badge)


def test_backfill_command_is_idempotent():
    v = published_version()
    users = [UserFactory() for _ in range(3)]
    for user in users[:2]:
        completed_session_row(user=user, version=v)
    badge = _badge({"requirement_type": "complete_scenario", "scenario": v})
    out = StringIO()
    call_command("award_badges", stdout=out)
    assert "awarded 2 badges" in out.getvalue()
    assert "[" in out.getvalue()
    out = StringIO()
    call_command("award_badges", "--badge", str(badge.pk), stdout=out)
    assert "awarded 0 badges" in out.getvalue()
    assert UserBadge.objects.filter(badge=badge).count() == 2
    assert Notification.objects.filter(title=f"Badge earned: {badge.name}").count() == 2
    with pytest.raises(CommandError):
        call_command("award_badges", "--badge", "not-a-uuid", stdout=StringIO())


@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_award_exactly_once():
    v1, v2 = published_version(), published_version()
    badge = _badge({"requirement_type": "complete_count", "count": 1})
    user = UserFactory()
    sessions = [completed_session_row(user=user, version=v) for v in (v1, v2, v1, v2)]
    barrier = threading.Barrier(len(sessions))
    errors = []

    def complete(session_id):
        try:
            barrier.wait()
            awards.badges_on_session_completed(session_id=session_id)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=complete, args=(s.pk,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert UserBadge.objects.filter(user=user, badge=badge).count() == 1
    assert Notification.objects.filter(user=user, title=f"Badge earned: {badge.name}").count() == 1
    assert AuditLog.objects.filter(action_type="badge.award").count() == 1


def test_finishing_a_path_through_the_session_services_awards_its_badge(django_capture_on_commit_callbacks):
    a, b = published_version(), published_version()
    path = career_path(versions=[a, b])
    badge = _badge({"requirement_type": "complete_path", "career_path": path})
    user = UserFactory()
    completed_session_row(user=user, version=a)
    session = running_session(user=user, version=b)
    with django_capture_on_commit_callbacks(execute=True):
        answer_all(session=session)
    assert _earned(user, badge)
    assert AuditLog.objects.filter(action_type="badge.award").count() == 1


def test_test_sessions_never_count():
    v = published_version()
    badge = _badge({"requirement_type": "complete_scenario", "scenario": v})
    user = UserFactory()
    session = completed_session_row(user=user, version=v)
    session.is_test = True
    session.save(update_fields=["is_test"])
    services.badges_evaluate_for(user=user, trigger="test")
    assert not _earned(user, badge)


def test_badge_api_lists_definitions_with_counts(solver, solver_client):
    v = published_version()
    badge = _badge({"requirement_type": "complete_scenario", "scenario": v}, name="API badge")
    completed_session_row(user=solver, version=v)
    services.badges_evaluate_for(user=solver, trigger="test")
    listed = solver_client.get("/api/v1/badges/").json()
    assert [(b["name"], b["earned_count"]) for b in listed] == [("API badge", 1)]
    assert solver_client.get(f"/api/v1/badges/{badge.pk}/").json()["name"] == "API badge"
    assert solver_client.get(f"/api/v1/badges/{uuid.uuid4()}/").status_code == 404
    mine = solver_client.get(f"/api/v1/users/{solver.pk}/badges/").json()
    assert mine[0]["badge"]["id"] == str(badge.pk) and mine[0]["earned_at"]


def test_awarded_hooks_run_on_commit_for_team_badges(django_capture_on_commit_callbacks):
    v = published_version()
    _badge({"requirement_type": "complete_scenario", "scenario": v})
    users = [UserFactory(), UserFactory()]
    for user in users:
        completed_session_row(user=user, version=v)
    seen = []

    def hook(*, user_badge_id):
        seen.append(user_badge_id)

    hooks.badge_awarded.register(hook)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            made = services.badges_evaluate_for_users(user_ids=[u.pk for u in users], trigger="event_finished")
    finally:
        hooks.badge_awarded.unregister(hook)
    assert made == 2
    assert sorted(seen) == sorted(UserBadge.objects.values_list("pk", flat=True))
