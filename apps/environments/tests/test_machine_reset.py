"""Reset one machine of a running lab: recreated as at the start, the others left alone (issue 17)."""

from __future__ import annotations

import pytest

from apps.accounts.factories import UserFactory, login_client
from apps.environments import services
from apps.environments.factories import pivot_version, quiz_version
from apps.environments.models import EnvironmentMachine, SessionStatus
from rangex.core.errors import InvalidTransition, NotFound
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _start(user, captured):
    with captured(execute=True):
        session = services.env_session_start(user=user, version=pivot_version())
    session.refresh_from_db()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    return session


def _ids(session) -> dict[str, str]:
    return dict(EnvironmentMachine.objects.filter(environment_session=session).values_list("machine_name", "task_arn"))


def test_a_reset_machine_starts_again_as_at_the_start_and_the_others_keep_their_state(
    runtime, settings, cleanup_sessions, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    user = UserFactory()
    session = _start(user, django_capture_on_commit_callbacks)
    cleanup_sessions.append(session.pk)
    sid = str(session.pk)
    assert runtime.run_command(sid, "victim", ["sh", "-c", "touch tmp/broken"]).exit_code == 0
    assert runtime.run_command(sid, "attacker", ["sh", "-c", "touch tmp/mine"]).exit_code == 0
    before = _ids(session)

    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_machine_reset(session=session, actor=user, machine="victim")

    session.refresh_from_db()
    after = _ids(session)
    assert session.status == SessionStatus.RUNNING and session.progress_message == "Running"
    assert after["victim"] != before["victim"] and after["attacker"] == before["attacker"]
    assert runtime.run_command(sid, "victim", ["test", "-e", "tmp/broken"]).exit_code != 0
    assert runtime.run_command(sid, "attacker", ["test", "-e", "tmp/mine"]).exit_code == 0
    audit = AuditLog.objects.get(action_type="session.machine_reset", target_id=sid)
    assert audit.details == {"machine": "victim"} and audit.user == user


def test_a_reset_is_refused_clearly_where_it_cannot_apply(fake_runtime_session, django_capture_on_commit_callbacks):
    session, user = fake_runtime_session
    with pytest.raises(NotFound, match="no machine called 'ghost'"):
        services.env_session_machine_reset(session=session, actor=user, machine="ghost")
    # Someone else's lab does not exist for them.
    with pytest.raises(NotFound, match="No such session"):
        services.env_session_machine_reset(session=session, actor=UserFactory(), machine="victim")
    services.env_session_pause(session=session, actor=user)
    session.refresh_from_db()
    with pytest.raises(InvalidTransition, match="Only a running lab"):
        services.env_session_machine_reset(session=session, actor=user, machine="victim")
    quiz = services.env_session_start(user=user, version=quiz_version())
    with pytest.raises(InvalidTransition, match="Only a running lab"):
        services.env_session_machine_reset(session=quiz, actor=user, machine="victim")


def test_the_page_offers_reset_per_machine_and_posting_it_confirms_through_htmx(
    fake_runtime_session, django_capture_on_commit_callbacks
):
    session, user = fake_runtime_session
    client = login_client(user)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert f'action="/sessions/{session.pk}/machines/victim/reset/"' in page
    assert 'hx-confirm="Reset victim? It starts again as it was at the start' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/sessions/{session.pk}/machines/victim/reset/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"] == f"/sessions/{session.pk}/"
    missing = client.post(f"/sessions/{session.pk}/machines/ghost/reset/")
    assert missing.status_code == 302
    assert "no machine called" in client.get(f"/sessions/{session.pk}/").content.decode()


@pytest.fixture
def fake_runtime_session(settings, django_capture_on_commit_callbacks):
    from apps.runtime.fake import FakeRuntime

    FakeRuntime.reset_all()
    settings.RANGEX_RUNTIMES = {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    user = UserFactory()
    session = _start(user, django_capture_on_commit_callbacks)
    yield session, user
    FakeRuntime.reset_all()
