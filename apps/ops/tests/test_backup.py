"""manage.py backup and restore: a database dump and the media files in one archive, restored for real.

The MariaDB round trip restores into a newly created, empty database through the production settings
in a separate process, as an operator does; the SQLite round trip does the same for the embedded
default. Refusals (a database that is not empty, missing encryption keys, a damaged archive, a file
name escaping media/) are checked before anything is written.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import MySQLdb
import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.test import override_settings

from apps.accounts.factories import UserFactory, enable_2fa
from apps.accounts.models import User
from apps.ops.backup import backup_create, backup_restore, backup_write_file
from rangex.core.crypto import decrypt
from rangex.core.errors import Conflict, ValidationFailed

ROOT = Path(settings.BASE_DIR)


def manage(*args: str, var_dir: Path, database_url: str, keys: str | None = None) -> subprocess.CompletedProcess:
    """Run manage.py with the production settings, as an operator would on a fresh install."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "rangex.settings",
        "RANGEX_ENV_FILE": "/dev/null",
        "SECRET_KEY": "restore-test-secret-key-0123456789-abcdefghijklmnop",
        "FIELD_ENCRYPTION_KEYS": keys or ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "RANGEX_VAR_DIR": str(var_dir),
        "RANGEX_INSTANCE": "restore-test",
    }
    var_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=240
    )


def _mysql_url(name: str) -> str:
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"mysql://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{name}"


@pytest.fixture
def empty_database():
    """Create an empty utf8mb4 database next to the test database; drop it afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.mark.django_db(transaction=True)
def test_backup_restores_into_an_empty_mariadb_database_with_media_and_decryptable_secrets(
    tmp_path, empty_database, settings
):
    # A media folder of its own: other tests of this worker leave their uploads in the shared one.
    settings.MEDIA_ROOT = str(tmp_path / "media")
    user = UserFactory(email="kept@example.org")
    totp_secret, _ = enable_2fa(user)
    media = Path(settings.MEDIA_ROOT)
    (media / "avatars").mkdir(parents=True, exist_ok=True)
    (media / "avatars" / "kept.png").write_bytes(b"\x89PNG avatar bytes")
    (media / "assets" / "v1").mkdir(parents=True, exist_ok=True)
    (media / "assets" / "v1" / "notes.txt").write_text("a private asset")

    archive = tmp_path / "backups" / "rangex.tar.gz"
    summary = backup_write_file(path=archive)
    assert summary.database == "mysql" and summary.media_files == 2
    assert archive.stat().st_mode & 0o777 == 0o600

    restored_var = tmp_path / "restored"
    done = manage("restore", str(archive), var_dir=restored_var, database_url=_mysql_url(empty_database))
    assert done.returncode == 0, done.stderr
    assert "Restored the backup" in done.stdout
    check = manage("migrate", "--check", var_dir=restored_var, database_url=_mysql_url(empty_database))
    assert check.returncode == 0, check.stdout + check.stderr

    db = connection.settings_dict
    restored = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1",
        port=int(db["PORT"] or 3306),
        user=db["USER"],
        password=db["PASSWORD"] or "",
        database=empty_database,
        charset="utf8mb4",
    )
    try:
        cursor = restored.cursor()
        cursor.execute("SELECT twofa_secret FROM `user` WHERE email = %s", ["kept@example.org"])
        (stored,) = cursor.fetchone()
    finally:
        restored.close()
    assert stored != totp_secret
    assert decrypt(stored) == totp_secret
    assert (restored_var / "media" / "avatars" / "kept.png").read_bytes() == b"\x89PNG avatar bytes"
    assert (restored_var / "media" / "assets" / "v1" / "notes.txt").read_text() == "a private asset"


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing():
    UserFactory(email="still-here@example.org")
    archive = io.BytesIO()
    backup_create(output=archive)
    archive.seek(0)
    with pytest.raises(Conflict, match="is not empty"):
        backup_restore(source=archive)
    assert User.objects.filter(email="still-here@example.org").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_when_a_key_of_the_backup_is_not_configured():
    archive = io.BytesIO()
    backup_create(output=archive)
    archive.seek(0)
    other_keys = override_settings(FIELD_ENCRYPTION_KEYS=[Fernet.generate_key().decode()])
    with other_keys, pytest.raises(ValidationFailed, match="FIELD_ENCRYPTION_KEYS lacks 1 key"):
        backup_restore(source=archive, replace=True)
    assert connection.introspection.table_names()


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup():
    with pytest.raises(ValidationFailed, match="not a RangeX backup"):
        backup_restore(source=io.BytesIO(b"SELECT 1;\n" * 100))
    plain = io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w:gz") as tar:
        info = tarfile.TarInfo("database.sql")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"x;\n"))
    plain.seek(0)
    with pytest.raises(ValidationFailed, match=r"first member is not manifest\.json"):
        backup_restore(source=plain)


# --- the embedded default (SQLite) ---------------------------------------------------------------


def _sqlite_install(var_dir: Path) -> None:
    """A small SQLite install: one table of rows and one uploaded file (no migrations needed)."""
    var_dir.mkdir(parents=True)
    db = sqlite3.connect(var_dir / "db.sqlite3")
    db.execute("CREATE TABLE kept (id INTEGER PRIMARY KEY, note TEXT)")
    db.executemany("INSERT INTO kept (note) VALUES (?)", [("first",), ("second ✓",)])
    db.commit()
    db.close()
    (var_dir / "media" / "covers").mkdir(parents=True)
    (var_dir / "media" / "covers" / "c.jpg").write_bytes(b"cover")


def test_sqlite_backup_restores_into_an_empty_install(tmp_path):
    source = tmp_path / "source"
    _sqlite_install(source)
    archive = tmp_path / "b.tar.gz"
    done = manage("backup", "-o", str(archive), var_dir=source, database_url=f"sqlite:///{source / 'db.sqlite3'}")
    assert done.returncode == 0, done.stderr
    assert "sqlite database" in done.stdout and "1 media file(s)" in done.stdout

    target = tmp_path / "target"
    done = manage("restore", str(archive), var_dir=target, database_url=f"sqlite:///{target / 'db.sqlite3'}")
    assert done.returncode == 0, done.stderr
    rows = sqlite3.connect(target / "db.sqlite3").execute("SELECT note FROM kept ORDER BY id").fetchall()
    assert rows == [("first",), ("second ✓",)]
    assert (target / "media" / "covers" / "c.jpg").read_bytes() == b"cover"

    again = manage("restore", str(archive), var_dir=target, database_url=f"sqlite:///{target / 'db.sqlite3'}")
    assert again.returncode != 0
    assert "is not empty" in again.stderr


def test_restore_refuses_a_media_name_that_leaves_the_media_folder(tmp_path):
    source = tmp_path / "source"
    _sqlite_install(source)
    archive = tmp_path / "b.tar.gz"
    assert (
        manage("backup", "-o", str(archive), var_dir=source, database_url=f"sqlite:///{source}/db.sqlite3").returncode
        == 0
    )

    crafted = tmp_path / "crafted.tar.gz"
    with tarfile.open(archive, "r:gz") as original, tarfile.open(crafted, "w:gz") as tar:
        for member in original:
            tar.addfile(member, original.extractfile(member))
        evil = tarfile.TarInfo("media/../../escaped.txt")
        evil.size = 4
        tar.addfile(evil, io.BytesIO(b"evil"))

    target = tmp_path / "target"
    done = manage("restore", str(crafted), var_dir=target, database_url=f"sqlite:///{target}/db.sqlite3")
    assert done.returncode != 0
    assert "unsafe name" in done.stderr
    assert not (tmp_path / "escaped.txt").exists()
    assert not (target / "escaped.txt").exists()
