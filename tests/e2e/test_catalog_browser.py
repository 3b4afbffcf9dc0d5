"""In a real browser: a solver filters the catalog, opens a scenario, rates it and sees the average change."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.factories import UserFactory
from apps.accounts.models import User
from apps.environments.factories import finished_session
from apps.scenarios.factories import published_version
from apps.scenarios.social import scenario_rate

pytestmark = pytest.mark.browser


def test_solver_filters_the_catalog_and_rates_a_scenario(page: Page, live_url, demo_accounts):
    web = published_version(slug="web-101", title="Web 101", category="web", tags=["http"])
    published_version(slug="crypto-101", title="Crypto 101", category="crypto")
    # Only players rate: the earlier rater and the demo solver have each finished a session of Web 101.
    rater = UserFactory()
    finished_session(user=rater, version=web)
    finished_session(user=User.objects.get(email="solver@rangex.local"), version=web)
    scenario_rate(user=rater, scenario=web.scenario, rating=2)

    page.goto(f"{live_url}/accounts/login/?next=/scenarios/")
    page.get_by_label("Email").fill("solver@rangex.local")
    page.get_by_label("Password").fill(demo_accounts["solver@rangex.local"])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/scenarios/$"))
    expect(page.get_by_role("link", name="Crypto 101")).to_be_visible()

    page.get_by_label("Category").select_option("web")
    expect(page.get_by_role("link", name="Crypto 101")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"category=web"))

    page.get_by_role("link", name="Web 101").click()
    expect(page.get_by_role("heading", name="Web 101", level=1)).to_be_visible()
    expect(page.locator("#start-session")).to_be_enabled()
    expect(page.locator("#rating-average")).to_have_text("2.00")

    page.get_by_role("button", name="Rate 4 out of 5").click()
    expect(page.locator("#rating-average")).to_have_text("3.00")
    expect(page.locator("#rating-count")).to_have_text("2")
    expect(page.locator("#my-rating")).to_have_text("4")

    page.get_by_role("button", name="Add to favourites").click()
    expect(page.get_by_role("button", name="Remove from favourites")).to_be_visible()
