"""Compile the translation catalogs (locale/*/LC_MESSAGES/*.po -> .mo) when the session starts.

.mo files are build output (not committed): the suite compiles those missing or older than their
.po once, in the controlling process, before any worker loads a translation.
"""

import pytest
from django.utils import translation

from rangex.core.i18n_check import compile_catalogs


def pytest_configure(config):
    if not hasattr(config, "workerinput"):
        compile_catalogs()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request in Malay leaves its language active."""
    translation.deactivate()
    yield
    translation.deactivate()
