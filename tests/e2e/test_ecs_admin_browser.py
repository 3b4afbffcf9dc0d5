"""In a real browser: a platform admin switches a scenario's labs to ECS from the Scenarios list."""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from apps.environments.factories import pivot_version
from apps.scenarios.models import Scenario
from tests.e2e.event_helpers import in_thread

pytestmark = pytest.mark.browser

ECS = {"BACKEND": "apps.runtime.ecs.EcsRuntime", "OPTIONS": {"config": {"region": "eu-west-1"}}}


@pytest.fixture
def ecs_configured(settings):
    # Choosing a runtime needs only its key configured; no AWS call is made here.
    settings.RANGEX_RUNTIMES = {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}, "ecs": ECS}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"


def test_an_admin_switches_a_scenario_to_ecs(ecs_configured, page: Page, live_url, admin_client_2fa):
    version = in_thread(pivot_version)
    session = admin_client_2fa.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_url}])

    page.goto(f"{live_url}/admin/scenarios/scenario/")
    page.locator(f"input[name=_selected_action][value='{version.scenario_id}']").check()
    page.select_option("select[name=action]", "run_on_ecs")
    page.screenshot(path="/tmp/ecs-admin-action.png", full_page=True)
    page.get_by_role("button", name="Go").click()

    expect(page.locator(".messagelist")).to_contain_text("now start new labs on ecs")
    expect(page.locator("#result_list")).to_contain_text("ecs")
    page.screenshot(path="/tmp/ecs-admin-switched.png", full_page=True)
    assert in_thread(lambda: Scenario.objects.get(pk=version.scenario_id).runtime_key) == "ecs"
