"""Rules run on any backend that runs commands: a test deployment on the in-memory FakeRuntime."""

from __future__ import annotations

import time

import pytest

from apps.accounts.factories import AdminFactory, CreatorFactory
from apps.environments.factories import TEST_IMAGE
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.images.factories import image_variant
from apps.scenarios import models as sc_models
from apps.scenarios import services as scenario_services
from apps.scenarios.testing import version_test_deploy_request

pytestmark = pytest.mark.django_db

QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "Flag?",
        "points": 10,
        "answer": "",
        "match": "exact",
        "dynamic": True,
        "flag_machine": "box",
        "flag_path": "/srv/flag.txt",
    },
    {"id": "q2", "type": "numeric", "prompt": "Port?", "points": 5, "answer": 22, "tolerance": 0},
]


@pytest.fixture
def fake_runtime(settings):
    settings.RANGEX_DEFAULT_RUNTIME = "fake"


def test_rules_run_on_the_fake_runtime(fake_runtime, django_capture_on_commit_callbacks):
    creator = CreatorFactory()
    variant = image_variant(image_ref=TEST_IMAGE, display_name=f"Busybox {time.monotonic_ns()}")
    version = scenario_services.scenario_create(
        actor=creator,
        slug=f"fake-{time.monotonic_ns()}",
        title="Fake lab",
        short_description="One box.",
        category="linux",
        questions=QUESTIONS,
        mission_text="Read the flag.",
    )
    scenario_services.machine_add(
        version=version,
        actor=creator,
        name="box",
        role="attacker",
        allow_solver_entry=True,
        image_source_type="variant",
        image_variant=variant,
        resource_profile="micro",
    )
    add = scenario_services.validation_rule_add
    add(version=version, actor=creator, check_type="command", machine_name="box", command="echo up", pattern="up")
    add(
        version=version,
        actor=creator,
        check_type="solution",
        machine_name="box",
        question_id="q1",
        command="cat srv/flag.txt",
    )
    add(version=version, actor=creator, check_type="solution", machine_name="box", question_id="q2", command="echo 23")
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    with django_capture_on_commit_callbacks(execute=True):
        run = version_test_deploy_request(version=version, actor=AdminFactory())
    run.refresh_from_db()
    assert [r["passed"] for r in run.test_results["rules"]] == [True, True, False]
    assert run.test_results["rules"][2]["reason"] == "The solution answered '23', which is not correct for q2."
    assert run.status == sc_models.TestStatus.FAILED and "1 of 3 rule(s) failed" in run.error_message
    session = EnvironmentSession.objects.get(pk=run.session_token)
    assert session.runtime_backend == "fake" and session.status == SessionStatus.TERMINATED
    assert sc_models.DockerTest.objects.get(metadata__run=str(run.pk)).logs.startswith("fake machine box")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("layer", ["redis", "in_memory"])
def test_progress_is_pushed_to_admins_watching_the_run(layer, settings):
    """Run on a loop of its own thread: an earlier test in this worker may have left a loop marked
    as running in the main thread, where pytest-asyncio would refuse to start one."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from channels.layers import channel_layers, get_channel_layer
    from channels.testing import WebsocketCommunicator

    from apps.accounts.factories import UserFactory, login_client
    from apps.environments.services.testdeploy import push_run
    from apps.scenarios.factories import submitted_version
    from tests.asgi import application

    if layer == "in_memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    else:
        assert "channels_redis" in settings.CHANNEL_LAYERS["default"]["BACKEND"]
    channel_layers.backends.clear()

    admin_user = AdminFactory()
    version = submitted_version()
    run = sc_models.ScenarioVersionTestRun.objects.create(scenario_version=version, initiated_by=admin_user)
    admin_cookie = login_client(admin_user).cookies["sessionid"].value
    solver_cookie = login_client(UserFactory()).cookies["sessionid"].value

    def page(cookie):
        headers = [
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", f"sessionid={cookie}".encode()),
        ]
        return WebsocketCommunicator(application, f"/ws/test-runs/{run.pk}/", headers=headers)

    async def scenario():
        from asgiref.sync import sync_to_async

        try:
            solver = page(solver_cookie)
            connected, _ = await solver.connect(timeout=10)
            assert not connected
            admin = page(admin_cookie)
            assert (await admin.connect(timeout=10))[0]
            await sync_to_async(push_run)(run.pk, {"type": "progress", "message": "Lab: Machine box ready"})
            assert await admin.receive_json_from(timeout=5) == {
                "type": "progress",
                "message": "Lab: Machine box ready",
            }
            await admin.disconnect()
        finally:
            current = get_channel_layer()
            if hasattr(current, "close_pools"):
                await current.close_pools()

    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(asyncio.run, scenario()).result()
    finally:
        channel_layers.backends.clear()


def test_a_run_left_by_a_dead_worker_fails_after_the_timeout():
    from datetime import timedelta

    from django.utils import timezone

    from apps.environments.services.testdeploy import version_test_runs_stale_fail
    from apps.scenarios.factories import submitted_version

    version = submitted_version()
    old = sc_models.ScenarioVersionTestRun.objects.create(
        scenario_version=version, status="running", started_at=timezone.now() - timedelta(hours=2)
    )
    fresh = sc_models.ScenarioVersionTestRun.objects.create(
        scenario_version=version, status="running", started_at=timezone.now()
    )
    assert version_test_runs_stale_fail() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == sc_models.TestStatus.ERROR and "without finishing" in old.error_message
    assert fresh.status == "running"
