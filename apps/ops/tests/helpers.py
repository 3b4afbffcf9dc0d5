"""Sessions in the states the ops reconcilers act on, reached through the environments services."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.factories import UserFactory
from apps.environments import services as env_services
from apps.runtime import LaunchResult
from apps.scenarios.factories import published_version


def starting_session(*, user=None, version=None):
    """Return a ``starting`` session whose provisioning has not run (its on-commit task is never sent)."""
    return env_services.env_session_start(user=user or UserFactory(), version=version or published_version())


def running_session(*, user=None, version=None):
    """Return a session marked running by the service, with no containers on the engine.

    Both steps share one transaction, so when its on-commit provisioning runs (tests with
    ``transaction=True``) it finds the session no longer ``starting`` and launches nothing.
    """
    with transaction.atomic():
        session = starting_session(user=user, version=version)
        return env_services.env_session_mark_running(session=session, result=LaunchResult(machines={}))
