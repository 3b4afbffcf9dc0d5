"""Cached system settings, and start-up that fails loudly on malformed configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rangex.core.errors import ValidationFailed
from rangex.core.models import SystemSettings
from rangex.core.system import get_settings, system_settings_update

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "RANGEX_ENV_FILE": "/dev/null",
    "DJANGO_SETTINGS_MODULE": "rangex.settings",
    "SECRET_KEY": "prod-like-secret-" + "k" * 40,
    "FIELD_ENCRYPTION_KEYS": "Ox1v3uVOxfD6R4pVvjt1Z7sqr7ZyV6p0q3o0J4wD6eA=",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "rangex.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://rangex.example.org",
    "DATABASE_URL": "mysql://root@127.0.0.1:3306/rangex",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "RANGEX_INSTANCE": "rangex-settings-test",
    "EMAIL_URL": "smtp+tls://rangex:mail-password@mail.example.org:587",
}


def _manage(*args, **env):
    # Start from a bare environment: the test process's own settings must not leak in.
    clean = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "VIRTUAL_ENV") if k in os.environ}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_get_settings_is_cached_and_refreshed_on_save(admin_user, django_assert_num_queries):
    get_settings()
    with django_assert_num_queries(0):
        assert get_settings().max_sessions_per_day == 30
    system_settings_update(actor=admin_user, max_sessions_per_day=7)
    assert get_settings().max_sessions_per_day == 7
    obj = SystemSettings.objects.get()
    obj.max_sessions_per_day = 9
    obj.save()
    assert get_settings().max_sessions_per_day == 9


@pytest.mark.django_db
def test_invalid_setting_values_are_refused(admin_user):
    with pytest.raises(ValidationFailed, match="budget_alert_percentage"):
        system_settings_update(actor=admin_user, budget_alert_percentage=150)
    with pytest.raises(ValidationFailed, match="Unknown setting"):
        system_settings_update(actor=admin_user, no_such_thing=1)
    assert get_settings().budget_alert_percentage == 80


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_argon2_is_the_first_password_hasher_in_production():
    result = _manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])"
    )
    assert result.stdout.strip() == "django.contrib.auth.hashers.Argon2PasswordHasher", result.stderr


@pytest.mark.parametrize(
    "env,variable",
    [
        ({"DATABASE_URL": "postgresql://x@y/z"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1:notaport/rangex"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@127.0.0.1:3306/"}, "DATABASE_URL"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"ACCOUNT_LOCKOUT_THRESHOLD": "five"}, "ACCOUNT_LOCKOUT_THRESHOLD"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, "FIELD_ENCRYPTION_KEYS"),
        ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
        ({"RANGEX_INSTANCE": "bad name!"}, "RANGEX_INSTANCE"),
        ({"RANGEX_THROTTLE_RATES": "answer.user=lots"}, "RANGEX_THROTTLE_RATES"),
        ({"RANGEX_THROTTLE_RATES": "answers.user=5/min"}, "RANGEX_THROTTLE_RATES"),
    ],
)
def test_malformed_configuration_stops_start_up_naming_the_variable(env, variable):
    result = _manage("check", **env)
    assert result.returncode != 0
    assert f"Environment variable {variable}" in result.stderr
    assert "Traceback" not in result.stderr.splitlines()[-1]


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text("file-secret-" + "z" * 40 + "\n")
    env = {"SECRET_KEY": "", "SECRET_KEY_FILE": str(secret_file)}
    result = _manage(
        "shell", "--no-imports", "-c", "from django.conf import settings; print(settings.SECRET_KEY)", **env
    )
    assert result.stdout.strip() == "file-secret-" + "z" * 40, result.stderr


def test_redis_cache_keeps_one_client_per_pool_and_works_across_threads():
    import threading
    import uuid

    from django.core.cache import cache, caches

    from rangex.core.cache import RedisCache

    assert isinstance(caches["default"], RedisCache)
    assert cache._cache.get_client("a", write=True) is cache._cache.get_client("b", write=True)
    key = f"test-client-reuse-{uuid.uuid4().hex}"
    errors = []

    def work(n):
        try:
            for i in range(50):
                cache.set(f"{key}-{n}", i, 30)
                assert cache.get(f"{key}-{n}") == i
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.incr(f"{key}-0") == 50
    cache.delete_many([f"{key}-{n}" for n in range(4)])


@pytest.mark.django_db
def test_reading_the_settings_never_writes_even_when_the_row_is_missing():
    from rangex.core.system import invalidate_settings_cache

    SystemSettings.objects.all().delete()
    invalidate_settings_cache()
    conf = get_settings()
    assert conf.max_sessions_per_user == 1 and conf.maintenance_mode is False
    assert not SystemSettings.objects.exists()
    system_settings_update(actor=None, maintenance_mode=True)
    assert SystemSettings.objects.get().maintenance_mode is True
