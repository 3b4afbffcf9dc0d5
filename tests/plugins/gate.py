"""The publish gate in tests: on by default (as in production); a test about something else turns it off explicitly."""

import pytest

from rangex.core.system import invalidate_settings_cache, system_settings_update


@pytest.fixture
def publish_gate_off(db):
    """Approve and publish without a passing test deployment (``publish_requires_test_run`` off)."""
    system_settings_update(actor=None, publish_requires_test_run=False)
    invalidate_settings_cache()
    yield
    invalidate_settings_cache()
