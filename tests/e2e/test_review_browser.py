"""In a real browser: the demo creator drafts and submits a new version in the admin, the demo admin
test-deploys it from the review page on the real engine (watching the progress live), approves and
publishes it, and the demo solver finds it in the catalog."""

import re
from io import StringIO

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.accounts.factories import totp_code

pytestmark = pytest.mark.browser


@pytest.fixture
def background_tasks(settings):
    """Tasks run on a server thread (the embedded default), so a test deployment runs while the page watches."""
    settings.RANGEX_EAGER_IN_BACKGROUND = True


@pytest.fixture
def demo_content(demo_accounts):
    from apps.scenarios import demo

    demo.seed(StringIO())
    return demo_accounts


def _sign_in_with_2fa(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/admin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/"))
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your app").fill(totp_code(secret))
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_creator_submits_admin_publishes_solver_finds_it(background_tasks, browser: Browser, live_url, demo_content):
    creator = browser.new_page()
    _sign_in_with_2fa(creator, live_url, "creator@rangex.local", demo_content["creator@rangex.local"])
    creator.goto(f"{live_url}/admin/scenarios/scenarioversion/")
    creator.get_by_role("link", name="First Steps", exact=True).click()
    creator.get_by_role("button", name="New version from this one").click()
    expect(creator.locator(".messagelist")).to_contain_text("as a draft")
    creator.get_by_label("Title:").fill("First Steps, revised")
    creator.get_by_role("button", name="Save and continue editing").click()
    # The new version inherited the validation rules, edited inline like the machines.
    expect(creator.locator("#validation_rules-group")).to_contain_text("solution in workstation")
    creator.locator("#validation_rules-group").screenshot(path="/tmp/testdeploy-rules-inline.png")
    creator.get_by_role("button", name="Submit for review").click()
    expect(creator.locator(".messagelist")).to_contain_text("submitted")
    creator.close()

    admin = browser.new_page()
    _sign_in_with_2fa(admin, live_url, "admin@rangex.local", demo_content["admin@rangex.local"])
    admin.goto(f"{live_url}/admin/scenarios/scenarioversion/review-queue/")
    admin.get_by_role("link", name=re.compile("First Steps, revised")).first.click()
    version_page = admin.url
    admin.get_by_role("button", name="Approve").click()
    # The publish gate: no passing test deployment of this content yet.
    expect(admin.locator(".messagelist")).to_contain_text("never been test-deployed")
    admin.get_by_role("link", name="Compare with previous").click()
    expect(admin.locator("body")).to_contain_text("First Steps, revised")
    expect(admin.locator("#rx-test-run-panel")).to_contain_text("never been test-deployed")
    admin.screenshot(path="/tmp/testdeploy-review.png", full_page=True)
    admin.get_by_role("button", name="Test deploy").click()
    # The run's page: its log and rules arrive over the socket while the lab starts and the rules run.
    expect(admin.locator("#rx-run-status")).to_have_text(re.compile("pending|running"))
    live_log = admin.locator("#rx-test-run[data-live='1'] #rx-run-log")
    expect(live_log).to_contain_text("Rule 1/3", timeout=120_000)
    admin.screenshot(path="/tmp/testdeploy-running.png", full_page=True)
    expect(admin.locator("#rx-run-status")).to_have_text("passed", timeout=120_000)
    # The finished page (reloaded by itself) shows each machine's outcome and every rule.
    expect(admin.locator("#rx-test-run[data-status='passed']")).to_contain_text("workstation", timeout=10_000)
    expect(admin.locator(".rx-rule-pass")).to_have_count(3)
    admin.screenshot(path="/tmp/testdeploy-passed.png", full_page=True)
    admin.goto(version_page)
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator(".messagelist")).to_contain_text("approved")
    admin.get_by_role("button", name="Publish").click()
    expect(admin.locator(".messagelist")).to_contain_text("published")
    admin.close()

    solver = browser.new_page()
    solver.goto(f"{live_url}/accounts/login/?next=/scenarios/")
    solver.get_by_label("Email").fill("solver@rangex.local")
    solver.get_by_label("Password").fill(demo_content["solver@rangex.local"])
    solver.get_by_role("button", name="Sign in").click()
    expect(solver.get_by_role("link", name="First Steps, revised")).to_be_visible()
