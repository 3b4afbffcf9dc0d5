"""Settings for the test suite: production services (MariaDB, Redis, Docker) on this machine.

Defaults only: any variable already in the environment wins, so CI or a developer can point the
suite elsewhere. The developer's .env is not read.
"""

import os

_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw")
_defaults = {
    "RANGEX_ENV_FILE": "/dev/null",
    "SECRET_KEY": "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "FIELD_ENCRYPTION_KEYS": "Ox1v3uVOxfD6R4pVvjt1Z7sqr7ZyV6p0q3o0J4wD6eA=",
    "DEBUG": "false",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    "DATABASE_URL": "mysql://root@127.0.0.1:3306/rangex",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_TASK_ALWAYS_EAGER": "true",
    "RANGEX_EAGER_IN_BACKGROUND": "false",
    "EMAIL_URL": "memorymail://",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "false",
    "SITE_URL": "http://testserver",
    # The in-memory runtime (apps/runtime/fake.py) is configured next to Docker, for fast tests.
    "RANGEX_ALLOW_FAKE_RUNTIME": "true",
    "RANGEX_RUNTIMES": '{"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}',
}
for _key, _value in _defaults.items():
    os.environ.setdefault(_key, _value)

# One namespace per test process, so parallel workers never see each other's Redis keys, channel
# messages, files or Docker resources. Always recomputed: xdist workers inherit the environment
# of the controller process, which has imported these settings too.
os.environ["RANGEX_INSTANCE"] = os.environ.get("RANGEX_TEST_INSTANCE") or f"rxtest-{_worker}-{os.getpid()}"
os.environ["RANGEX_VAR_DIR"] = f"/tmp/rangex-test-{os.environ['RANGEX_INSTANCE']}"  # noqa: S108 (private folder)

from rangex.settings import *  # noqa: E402,F403

# Hashing with Argon2 for every factory user would dominate the suite's time; the production
# hasher list is asserted by a test that loads rangex.settings in a subprocess.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]  # noqa: F405
MEDIA_ROOT = VAR_DIR / "media"  # noqa: F405
STATIC_ROOT = VAR_DIR / "staticfiles"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The suite signs in, answers and starts labs far faster than people do: rates stay on (their code
# runs in every test) but high, and throttling tests lower the rate they test with ``settings``.
RANGEX_THROTTLE_RATES = dict.fromkeys(RANGEX_THROTTLE_RATES, "100000/min")  # noqa: F405
