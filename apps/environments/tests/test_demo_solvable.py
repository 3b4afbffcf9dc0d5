"""The demo scenarios pass ``manage.py test_scenario`` on the real engine; Pivot Point fails without its password.

The demo images (``manage.py build_images --set demo``) are built by the test command
(deploy/test.sh, which sets RANGEX_REQUIRE_DEMO_IMAGES=1 so a missing image fails instead of skipping).
"""

from __future__ import annotations

import os
from io import StringIO

import pytest
from django.core.management import call_command

from apps.accounts.models import User
from apps.runtime import get_runtime
from apps.scenarios import services as scenario_services
from apps.scenarios.demo import ADMIN_EMAIL, VARIANTS
from apps.scenarios.models import ScenarioVersion
from apps.scenarios.testing import version_test_deploy_request

pytestmark = [pytest.mark.docker, pytest.mark.django_db]


@pytest.fixture
def demo(db):
    missing = [v["image_ref"] for v in VARIANTS if not get_runtime().image_present(v["image_ref"])]
    if missing:
        if os.environ.get("RANGEX_REQUIRE_DEMO_IMAGES") == "1":
            pytest.fail(f"demo images missing: {', '.join(missing)}")
        pytest.skip(f"demo images not built ({', '.join(missing)}): manage.py build_images --set demo")
    call_command("seed_demo", stdout=StringIO())


@pytest.mark.parametrize("slug", ["first-steps", "pivot-point", "desktop-pivot"])
def test_the_demo_scenario_passes_test_scenario(demo, slug, django_capture_on_commit_callbacks):
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("test_scenario", slug, stdout=out)
    assert "passed" in out.getvalue()
    version = ScenarioVersion.objects.get(scenario__slug=slug)
    run = version.test_runs.get()
    questions = {q["id"] for q in version.questions}
    solved = {r["label"].split()[2] for r in run.test_results["rules"] if r["kind"] == "solution" and r["passed"]}
    assert solved == questions


def test_pivot_point_without_the_pivot_password_fails_its_solution(demo, django_capture_on_commit_callbacks):
    """The bug of the issue: the same content with the SSH account removed is unsolvable, and the run says so."""
    published = ScenarioVersion.objects.get(scenario__slug="pivot-point")
    creator = published.scenario.created_by_user
    broken = scenario_services.scenario_version_new(source=published, actor=creator)
    pivot = broken.machines.get(name="pivot")
    pivot.ssh_password = None
    scenario_services.scenario_version_component_save(version=broken, actor=creator, obj=pivot)
    with django_capture_on_commit_callbacks(execute=True):
        run = version_test_deploy_request(version=broken, actor=User.objects.get(email=ADMIN_EMAIL))
    run.refresh_from_db()
    assert run.status == "failed"
    by_question = {r["label"].split()[2]: r for r in run.test_results["rules"] if r["kind"] == "solution"}
    assert not by_question["q1"]["passed"] and not by_question["q3"]["passed"]
    # The segmentation rules still pass: only the route through the pivot's account is broken.
    assert all(r["passed"] for r in run.test_results["rules"] if r["kind"] == "reachable")
