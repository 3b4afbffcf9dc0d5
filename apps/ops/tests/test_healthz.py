"""/healthz: one status per part (database, cache, broker, engine), 200 or 503, nothing secret."""

import pytest
from django.test import Client, override_settings

from rangex.core.system import maintenance_set

pytestmark = pytest.mark.django_db

PARTS = {"database", "cache", "broker", "engine", "storage"}


def test_healthz_reports_every_part_ok_against_the_real_services():
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == PARTS
    # Local asset storage has nothing to probe.
    assert {p: r["status"] for p, r in body["checks"].items() if p != "storage"} == dict.fromkeys(
        PARTS - {"storage"}, "ok"
    )
    assert body["checks"]["storage"]["status"] == "skipped"
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_naming_the_unreachable_parts_without_their_addresses():
    broker = "redis://:broker-password@127.0.0.1:1/0"
    with override_settings(CELERY_BROKER_URL=broker, RANGEX_DOCKER_URL="tcp://127.0.0.1:1"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert {part: result["status"] for part, result in body["checks"].items()} == {
        "database": "ok",
        "cache": "ok",
        "broker": "fail",
        "engine": "fail",
        "storage": "skipped",
    }
    assert b"127.0.0.1" not in response.content
    assert b"broker-password" not in response.content


def test_healthz_skips_the_broker_when_tasks_run_in_process():
    with override_settings(CELERY_BROKER_URL="memory://"):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["checks"]["broker"]["status"] == "skipped"


def test_healthz_answers_plain_http_probes_in_production_and_in_maintenance(admin_user):
    maintenance_set(actor=admin_user, enabled=True, message="Upgrading.")
    with override_settings(SECURE_SSL_REDIRECT=True):
        assert Client().get("/").status_code == 301
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_healthz_refuses_writes():
    assert Client().post("/healthz").status_code == 405
