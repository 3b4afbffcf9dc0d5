"""Audit rows: written by audit_record with actor, target, details, address; immutable in the admin."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.admin.sites import site
from django.test import Client, RequestFactory

from apps.accounts.factories import AdminFactory, enable_2fa, login_client
from rangex.core.audit import AuditAction, audit_record
from rangex.core.models import AuditLog
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def test_settings_change_is_audited_with_old_and_new_values_and_secrets_masked(admin_user):
    system_settings_update(actor=admin_user, max_sessions_per_day=12, slack_webhook_url="https://hooks.example/abc")
    row = AuditLog.objects.get(action_type="system_settings.update")
    assert row.user == admin_user
    assert row.details["changes"]["max_sessions_per_day"] == {"old": 30, "new": 12}
    assert row.details["changes"]["slack_webhook_url"] == {"old": "", "new": "********"}
    assert "hooks.example" not in str(row.details)


def test_request_address_and_user_agent_are_captured(admin_client_2fa):
    admin_client_2fa.post(
        "/accounts/tokens/", {"label": "cli"}, REMOTE_ADDR="198.51.100.9", HTTP_USER_AGENT="pytest-agent"
    )
    row = AuditLog.objects.filter(action_type="api_token.create").latest("timestamp")
    assert row.ip_address == "198.51.100.9"
    assert row.user_agent == "pytest-agent"


def test_audit_rows_are_read_only_in_the_admin_even_for_superusers(admin_user):
    superuser = AdminFactory(email="root@example.test")
    type(superuser).objects.filter(pk=superuser.pk).update(is_superuser=True)
    superuser.refresh_from_db()
    secret, _ = enable_2fa(superuser)
    client = login_client(superuser, secret=secret)
    row = audit_record(actor=admin_user, action=AuditAction.SYSTEM_SETTING_SET, target=admin_user, details={"a": 1})

    model_admin = site._registry[AuditLog]
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, row)
    assert not model_admin.has_delete_permission(request, row)

    assert client.get("/admin/core/auditlog/").status_code == 200
    change = client.post(f"/admin/core/auditlog/{row.pk}/change/", {"action_type": "tampered"})
    assert change.status_code in (403, 200)
    delete = client.post(f"/admin/core/auditlog/{row.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    bulk = client.post(
        "/admin/core/auditlog/", {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    row.refresh_from_db()
    assert row.action_type == AuditAction.SYSTEM_SETTING_SET


def test_creators_do_not_see_the_audit_log(creator_client):
    assert creator_client.get("/admin/core/auditlog/").status_code == 403


def test_anonymous_admin_visit_goes_to_login():
    response = Client().get("/admin/core/auditlog/")
    assert response.status_code == 302


def test_an_action_that_is_not_an_enum_member_is_refused(admin_user):
    before = AuditLog.objects.count()
    with pytest.raises(ValueError, match=r"Unknown audit action 'scenario_version\.submited'"):
        audit_record(actor=admin_user, action="scenario_version.submited", target=admin_user)
    with pytest.raises(ValueError):
        audit_record(actor=admin_user, action="system_settings.update", target=admin_user)  # the value, not the member
    assert AuditLog.objects.count() == before


def _is_string_expression(node) -> bool:
    """A literal, an f-string, a concatenation or a conditional of those: the forms actions used to take."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_string_expression(node.left) or _is_string_expression(node.right)
    if isinstance(node, ast.IfExp):
        return _is_string_expression(node.body) or _is_string_expression(node.orelse)
    return False


def test_no_code_passes_a_string_as_an_audit_action():
    """Every ``audit_record(action=...)`` in RangeX names an enum member (or a table of them), never a string."""
    offenders = []
    for folder in ("apps", "rangex"):
        for path in (Path(settings.BASE_DIR) / folder).rglob("*.py"):
            if "migrations" in path.parts or "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name = getattr(getattr(node, "func", None), "id", None) or getattr(
                    getattr(node, "func", None), "attr", None
                )
                if isinstance(node, ast.Call) and name == "audit_record":
                    for keyword in node.keywords:
                        if keyword.arg == "action" and _is_string_expression(keyword.value):
                            offenders.append(f"{path.relative_to(settings.BASE_DIR)}:{node.lineno}")
    assert offenders == []


def test_the_audit_log_admin_filters_by_action(admin_client_2fa, admin_user):
    audit_record(actor=admin_user, action=AuditAction.USER_ROLES, target=admin_user)
    response = admin_client_2fa.get("/admin/core/auditlog/", {"action_type__exact": AuditAction.USER_ROLES})
    assert response.status_code == 200
    assert str(AuditAction.USER_ROLES.label) in response.content.decode()
