"""Fixtures for tests that run labs on the real engine, shared by every app through the root conftest."""

import pytest

from apps.environments.factories import ensure_test_image
from apps.runtime import get_runtime


@pytest.fixture(scope="session")
def test_image():
    ensure_test_image()


@pytest.fixture
def runtime(test_image):
    return get_runtime()


@pytest.fixture
def cleanup_sessions(runtime):
    """Stop, at the end of the test, every runtime resource the test's sessions made."""
    created: list[str] = []
    yield created
    for session_id in created:
        runtime.stop(str(session_id))


@pytest.fixture
def pool_cleanup(runtime):
    """Remove, at the end of the test, the machines of every warm-pool environment the test made."""
    yield
    from apps.environments.models import DeploymentEnvironment

    for sid in DeploymentEnvironment.objects.exclude(session_uuid=None).values_list("session_uuid", flat=True):
        runtime.stop(str(sid))
