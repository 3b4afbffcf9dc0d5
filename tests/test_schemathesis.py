"""Schemathesis over the whole API, as a solver with a personal token, against a live server.

Every operation of ``/api/schema/`` gets generated requests, valid ones (aimed at objects that
exist: the solver's playlists, an event they play, a team, a published scenario) and invalid ones,
and every response must be no server error, carry a documented status code and content type, and
match its documented schema. The run is bounded and deterministic: ``RANGEX_SCHEMATHESIS_EXAMPLES``
examples (default 8) per operation and mode, Hypothesis seeded with ``SEED``, no example database,
no shrinking (a failure prints the request that caused it as a ``curl`` line instead).
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from apps.accounts.factories import AdminFactory
from apps.accounts.services import api_token_create
from apps.events import services as event_services
from apps.events.factories import make_event
from apps.paths.factories import career_path, playlist
from apps.scenarios.factories import published_version
from apps.teams.factories import team

pytestmark = pytest.mark.django_db(transaction=True)

SEED = 20261115
EXAMPLES = int(os.environ.get("RANGEX_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def existing_objects(solver) -> dict[str, dict]:
    """Return path parameters naming real objects, by operation path (and by label where one must differ)."""
    admin = AdminFactory()
    version = published_version(admin=admin)
    event = make_event(admin=admin, allow_late_registration=True)
    event_services.event_register(event=event, user=solver)
    listed = playlist(owner=solver, versions=[version])
    spare, _ = api_token_create(user=solver, label="to revoke", expires_in_days=30)
    ids = {
        "/api/v1/events/{id}/": {"id": str(event.pk)},
        "/api/v1/paths/{id}/": {"id": str(career_path(admin=admin, versions=[version]).pk)},
        "/api/v1/playlists/{id}/": {"id": str(listed.pk)},
        "/api/v1/playlists/{id}/items/{item_pk}/": {"id": str(listed.pk), "item_pk": listed.items.get().pk},
        "/api/v1/scenarios/{slug}/": {"slug": version.scenario.slug},
        "/api/v1/teams/{id}/": {"id": str(team().pk)},
        "/api/v1/accounts/tokens/{id}/": {"id": str(spare.pk)},
        "/api/v1/users/{id}/": {"id": str(solver.pk)},
        "/api/v1/creator/versions/{id}/": {"id": str(version.pk)},
    }
    # Deleting the playlist first would leave every later playlist operation a 404.
    ids["DELETE /api/v1/playlists/{id}/"] = {"id": str(playlist(owner=solver, title="Doomed").pk)}
    return ids


def path_parameters(operation, known: dict[str, dict]) -> dict | None:
    if operation.label in known:
        return known[operation.label]
    for prefix, parameters in sorted(known.items(), key=lambda item: -len(item[0])):
        if operation.path.startswith(prefix) and set(parameters) <= {p.name for p in operation.path_parameters}:
            return parameters
    return None


def test_every_api_operation_answers_within_its_schema(live_server, solver):
    _, raw = api_token_create(user=solver, label="schemathesis", expires_in_days=None)
    auth = {"Authorization": f"Bearer {raw}"}
    known = existing_objects(solver)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json", headers=auth)
    failures: list[str] = []
    calls = 0
    started = time.monotonic()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # Valid requests go to objects that exist; invalid ones may name anything.
            fixed = path_parameters(operation, known) if mode is GenerationMode.POSITIVE else None

            @seed(SEED)
            @hypothesis_settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
                print_blob=False,
            )
            @given(case=operation.as_strategy(generation_mode=mode, path_parameters=fixed))
            def call(case):
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=live_server.url, headers=auth, checks=CHECKS)

            try:
                call()
            except Unsatisfiable:
                # Nothing invalid can be sent to an operation without parameters or body.
                continue
            except (Exception, BaseExceptionGroup) as exc:
                # Schemathesis raises a group of the distinct failures it found for one operation.
                failures.append(f"{operation.label} ({mode.value}):\n{exc}")

    print(f"schemathesis: {calls} requests in {time.monotonic() - started:.1f} s, {len(failures)} failing operations")
    assert calls > 0
    assert not failures, "\n\n".join(failures)
