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
