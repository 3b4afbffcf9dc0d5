from apps.environments.tests.conftest import cleanup_sessions, runtime, test_image  # noqa: F401 (fixtures)
