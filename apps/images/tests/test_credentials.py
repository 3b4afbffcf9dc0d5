"""Registry credentials: saved through services, tested through the runtime, secrets never audited."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.images import services
from apps.images.models import RegistryCredential
from rangex.core.errors import NotFound
from rangex.core.models import AuditLog

pytestmark = pytest.mark.django_db


def _credential(owner, **fields):
    return services.registry_credential_save(
        actor=owner,
        changes={
            "label": "Local test",
            "registry_url": "127.0.0.1:9",
            "username_enc": "robot",
            "password_or_token_enc": "token-123",
            **fields,
        },
    )


def test_save_audits_without_the_secrets(creator):
    credential = _credential(creator)
    assert credential.created_by_user == creator
    row = AuditLog.objects.get(action_type="registry_credential.create")
    assert "token-123" not in str(row.details) and "robot" not in str(row.details)


def test_changing_the_secret_marks_it_untested(creator):
    credential = _credential(creator)
    RegistryCredential.objects.filter(pk=credential.pk).update(status="ok")
    credential.refresh_from_db()
    credential = services.registry_credential_save(
        actor=creator, credential=credential, changes={"password_or_token_enc": "token-456"}
    )
    assert credential.status == RegistryCredential.Status.UNTESTED


def test_another_creator_cannot_test_it(creator):
    from apps.accounts.factories import CreatorFactory

    credential = _credential(creator)
    with pytest.raises(NotFound):
        services.registry_credential_test(credential=credential, actor=CreatorFactory())


def test_test_against_an_unreachable_registry_records_the_failure(creator):
    credential = services.registry_credential_test(credential=_credential(creator), actor=creator)
    assert credential.status == RegistryCredential.Status.FAILED
    assert credential.last_tested_at is not None and credential.last_test_message


def test_test_action_reports_a_message_not_a_500(creator, creator_client):
    credential = _credential(creator)
    response = creator_client.post(
        reverse("admin:images_registrycredential_changelist"),
        {"action": "test_credentials", "_selected_action": [str(credential.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert len(texts) == 1 and texts[0].startswith(str(credential))
