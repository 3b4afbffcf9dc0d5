"""The kernel's tables moved apps (ops/accounts -> core) without losing a row.

A scratch MariaDB database is migrated to the last state before the move, rows are written there
through the historical models, and then every migration runs forward. The rows, the settings
singleton and the permissions granted on the old content types must all still be there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)

SCRIPT = textwrap.dedent(
    """
    import django
    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    BEFORE = [("ops", "0004_host_isolation_check"), ("accounts", "0002_creator_preferred_variants")]
    executor = MigrationExecutor(connection)
    leaves = [n for n in executor.loader.graph.leaf_nodes() if n[0] not in ("core", "ops", "accounts")]
    executor.migrate(BEFORE + leaves)

    old = MigrationExecutor(connection).loader.project_state(BEFORE).apps
    User = old.get_model("accounts", "User")
    user = User.objects.create(email="kept@example.test", password="x")
    old.get_model("ops", "SystemSettings").objects.create(id=1, maintenance_message="kept message")
    old.get_model("ops", "SystemSetting").objects.create(key="kept.key", value="kept value")
    old.get_model("ops", "AuditLog").objects.create(user=user, action_type="user.create", details={"kept": 1})
    old.get_model("ops", "Job").objects.create(type="kept_job", user=user, progress=42)
    old.get_model("accounts", "Notification").objects.create(user=user, title="kept title")
    ContentType = old.get_model("contenttypes", "ContentType")
    Permission = old.get_model("auth", "Permission")
    Group = old.get_model("auth", "Group")
    ct = ContentType.objects.create(app_label="ops", model="auditlog")
    perm = Permission.objects.create(content_type=ct, codename="view_auditlog", name="Can view audit log")
    Group.objects.create(name="Auditors").permissions.add(perm)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from django.contrib.auth.models import Group
    from rangex.core.models import AuditLog, Job, Notification, SystemSetting, SystemSettings
    assert SystemSettings.objects.get(pk=1).maintenance_message == "kept message"
    assert SystemSetting.objects.get(key="kept.key").value == "kept value"
    row = AuditLog.objects.get(action_type="user.create")
    assert row.details == {"kept": 1} and row.user.email == "kept@example.test"
    assert Job.objects.get(type="kept_job").progress == 42
    assert Notification.objects.get(title="kept title").user.email == "kept@example.test"
    assert Group.objects.get(name="Auditors").permissions.get().content_type.app_label == "core"
    print("ROWS INTACT")
    """
)


@pytest.mark.skipif(not settings.DATABASE_IS_MYSQL, reason="runs against MariaDB, as production does")
def test_a_database_migrated_before_the_kernel_move_migrates_forward_with_its_rows_intact():
    import MySQLdb

    name = f"rangex_migr_{uuid.uuid4().hex[:10]}"
    db = settings.DATABASES["default"]
    host, port = db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306)
    conn = MySQLdb.connect(host=host, port=port, user=db["USER"], passwd=db["PASSWORD"] or "")
    try:
        conn.cursor().execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "rangex.settings_test",
            "DATABASE_URL": f"mysql://{db['USER']}:{db['PASSWORD'] or ''}@{host}:{port}/{name}",
            "RANGEX_TEST_INSTANCE": f"migr-{os.getpid()}",
        }
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
        )
        assert "ROWS INTACT" in result.stdout, result.stderr[-3000:]
    finally:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        conn.close()
