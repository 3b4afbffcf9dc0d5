"""Roles map onto groups; the API speaks one error shape; live notification counts."""

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.services import user_set_roles
from rangex.core.notifications import notification_send
from tests.asgi import application

pytestmark = pytest.mark.django_db


def test_roles_are_independent_and_mirrored_into_groups(solver, admin_user):
    assert set(solver.groups.values_list("name", flat=True)) == {"Solver"}
    user_set_roles(user=solver, actor=admin_user, solver=True, creator=True, admin=False)
    solver.refresh_from_db()
    assert set(solver.groups.values_list("name", flat=True)) == {"Solver", "Creator"}
    assert solver.is_staff and not solver.is_platform_admin
    user_set_roles(user=solver, actor=admin_user, solver=False, creator=False, admin=True)
    solver.refresh_from_db()
    assert set(solver.groups.values_list("name", flat=True)) == {"Admin"}


def test_admin_group_cannot_write_audit_rows():
    admin_perms = set(Group.objects.get(name="Admin").permissions.values_list("codename", flat=True))
    assert "view_auditlog" in admin_perms
    assert not {"add_auditlog", "change_auditlog", "delete_auditlog"} & admin_perms


def test_unauthenticated_api_gets_the_error_shape():
    response = APIClient().get("/api/v1/accounts/me/")
    assert response.status_code in (401, 403)
    assert set(response.json()["error"]) >= {"code", "message"}


def test_api_validation_errors_name_the_field(solver):
    client = APIClient()
    client.force_authenticate(solver)
    response = client.post("/api/v1/accounts/notifications/read/", {"ids": ["not-a-uuid"]}, format="json")
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "validation_failed" and "ids" in str(body["fields"])


def test_openapi_schema_and_docs_are_served_without_a_cdn(solver_client):
    schema = solver_client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    docs = solver_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn." not in docs.content and b"jsdelivr" not in docs.content


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_notification_count_is_pushed_live():
    from asgiref.sync import sync_to_async

    from apps.accounts.factories import UserFactory

    user = await sync_to_async(UserFactory)()
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
    )
    communicator.scope["user"] = user
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(notification_send)(user=user, type="system", title="Ping")
    message = await communicator.receive_json_from(timeout=3)
    assert message == {"type": "unread", "unread": 1}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("channel_layer")
async def test_notification_socket_refuses_anonymous_and_foreign_origins():
    communicator = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")]
    )
    connected, code = await communicator.connect()
    assert not connected and code == 4401
    evil = WebsocketCommunicator(
        application, "/ws/notifications/", headers=[(b"origin", b"https://evil.example"), (b"host", b"testserver")]
    )
    connected, _ = await evil.connect()
    assert not connected


def test_user_emails_are_stored_lowercase():
    from apps.accounts.services import user_create

    user = user_create(email="MiXeD@Example.TEST", password="sturdy-passphrase-91")
    assert User.objects.get(pk=user.pk).email == "mixed@example.test"
