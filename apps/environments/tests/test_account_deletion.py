"""Deleting an account through the admin stops its labs on the real engine and is audited."""

from __future__ import annotations

import pytest

from apps.accounts.factories import UserFactory
from apps.accounts.models import User
from apps.environments import services
from apps.environments.factories import pivot_version
from apps.environments.models import EnvironmentSession
from rangex.core.audit import AuditAction
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def test_deleting_a_user_in_the_admin_stops_their_labs_and_writes_an_audit_row(
    admin_client_2fa, django_capture_on_commit_callbacks, cleanup_sessions, runtime
):
    solver = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        session = services.env_session_start(user=solver, version=pivot_version())
    cleanup_sessions.append(session.pk)
    assert set(runtime.status(str(session.pk)).values()) == {"running"}

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_2fa.post(f"/admin/accounts/user/{solver.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=solver.pk).exists()
    assert not EnvironmentSession.objects.filter(pk=session.pk).exists()
    assert runtime.status(str(session.pk)) == {}
    assert not [r for r in runtime.list_managed() if r.session_id == str(session.pk)]
    row = AuditLog.objects.get(action_type=AuditAction.USER_DELETE, target_id=str(solver.pk))
    assert row.details["labs_stopped"] == 1 and row.details["email"] == solver.email
    assert AuditLog.objects.filter(action_type=AuditAction.SESSION_STOP, target_id=str(session.pk)).exists()


def test_an_account_that_wrote_scenarios_is_refused_with_a_reason_and_kept(admin_client_2fa):
    version = pivot_version()
    author = version.scenario.created_by_user

    response = admin_client_2fa.post(f"/admin/accounts/user/{author.pk}/delete/", {"post": "yes"}, follow=True)

    assert User.objects.filter(pk=author.pk).exists()
    assert "deactivate the account instead" in response.content.decode()
