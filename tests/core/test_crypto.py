"""Secrets at rest: encryption round trip, key rotation, never in a repr."""

from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from apps.accounts.models import CreatorPreferences
from rangex.core import crypto
from rangex.core.system import system_settings_update

pytestmark = pytest.mark.django_db


def _raw(table, column, where="1=1"):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM `{table}` WHERE {where}")  # noqa: S608 (test-only constants)
        return cursor.fetchone()[0]


def test_round_trip_and_ciphertext_in_the_database(creator):
    prefs = CreatorPreferences.objects.create(user=creator, docker_password_encrypted="hunter2-registry")
    stored = _raw("creator_preferences", "docker_password_encrypted")
    assert "hunter2" not in stored and stored.startswith("gAAAAA")
    prefs.refresh_from_db()
    assert prefs.docker_password_encrypted == "hunter2-registry"
    assert "hunter2" not in repr(prefs.docker_password_encrypted)


def test_key_rotation_keeps_old_secrets_readable_and_reencrypts(settings, admin_user):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    system_settings_update(actor=admin_user, minio_secret_key="s3cr3t-minio")
    before = _raw("system_settings", "minio_secret_key")

    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert crypto.decrypt(before) == "s3cr3t-minio"

    call_command("rotate_encryption_keys", stdout=StringIO())
    after = _raw("system_settings", "minio_secret_key")
    assert after != before
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert crypto.decrypt(after) == "s3cr3t-minio"


def test_unknown_key_gives_a_clear_error(settings):
    token = crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.DecryptionError, match="could not be decrypted"):
        crypto.decrypt(token)
