"""Accessibility as a check: axe-core over the learner's main pages at two viewports, and a keyboard-only walk.

axe-core comes from npm (package.json devDependencies) and is evaluated into each page; any serious
or critical violation of WCAG 2.0/2.1/2.2 A and AA fails the test, with the rule, the page and the
elements named. One test visits every page at both viewports, in one browser, to keep it fast.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory, login_client
from apps.environments.factories import quiz_version
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  const serious = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || ""))}));
  return {rules: result.passes.length + result.violations.length + result.incomplete.length, serious};
}"""


def _world():
    """A learner with a finished quiz, a path, a badge, a notification and a token: every page has content."""
    from apps.accounts import services as account_services
    from apps.badges import services as badge_services
    from apps.environments import services as env_services
    from apps.paths.factories import career_path
    from rangex.core.models import NotificationType
    from rangex.core.notifications import notification_send

    learner = UserFactory(display_name="Ally")
    version = quiz_version(title="Port quiz")
    other = quiz_version(title="Second quiz")
    path = career_path(versions=[version, other], title="Beginner path")
    session = env_services.env_session_start(user=learner, version=version)
    env_services.env_session_submit_answer(session=session, actor=learner, question_id="q1", answer="RX{quiz}")
    from apps.accounts.factories import AdminFactory

    badge_services.badge_create(
        actor=AdminFactory(), name="Quiz finisher", description="Finish the quiz.",
        requirements=[{"requirement_type": "complete_scenario", "scenario": version}],
    )  # fmt: skip
    notification_send(user=learner, type=NotificationType.SYSTEM, title="Welcome", link="/paths/")
    account_services.api_token_create(user=learner, label="a rather long token label for ci", expires_in_days=30)
    return learner, version, path, session


def _pages(version, path, session, learner) -> list[tuple[str, str, bool]]:
    """(name, path, signed in) of the pages checked."""
    return [
        ("home", "/", True),
        ("catalog", "/scenarios/", True),
        ("scenario", f"/scenarios/{version.scenario.slug}/", True),
        ("session", f"/sessions/{session.pk}/", True),
        ("path", f"/paths/{path.pk}/", True),
        ("profile", f"/badges/users/{learner.pk}/", True),
        ("account", "/accounts/profile/", True),
        ("badges", "/badges/", True),
        ("notifications", "/accounts/notifications/", True),
        ("tokens", "/accounts/tokens/", True),
        ("login", "/accounts/login/", False),
        ("sign-up", "/accounts/signup/", False),
    ]


def test_main_pages_have_no_serious_or_critical_axe_violations_on_desktop_and_phone(browser, live_url):
    learner, version, path, session = in_thread(_world)
    cookie = in_thread(lambda: login_client(learner)).cookies["sessionid"].value
    axe_source = AXE.read_text()
    failures = []
    for viewport_name, viewport in VIEWPORTS.items():
        signed_in = browser.new_context(viewport=viewport)
        signed_in.add_cookies([{"name": "sessionid", "value": cookie, "url": live_url}])
        anonymous = browser.new_context(viewport=viewport)
        try:
            for name, url, needs_login in _pages(version, path, session, learner):
                page = (signed_in if needs_login else anonymous).new_page()
                visit(page, f"{live_url}{url}")
                page.evaluate(axe_source)
                report = page.evaluate(RUN_AXE, WCAG_TAGS)
                assert report["rules"] > 10, f"axe checked nothing on {name}"
                for violation in report["serious"]:
                    failures.append(f"{viewport_name} {name}: {violation['id']} ({violation['impact']}) {violation}")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 1:
                    failures.append(f"{viewport_name} {name}: the page scrolls sideways by {overflow}px")
                page.screenshot(path=f"/tmp/learners-a11y-{viewport_name}-{name}.png", full_page=True)
                page.close()
        finally:
            signed_in.close()
            anonymous.close()
    assert not failures, "\n".join(failures)


def test_keyboard_only_sign_in_catalog_filters_and_answering(browser, live_url):
    password = "Keyboard-only-1!"

    def world():
        from apps.accounts.factories import UserFactory as Users

        user = Users(email="keys@example.com")
        user.set_password(password)
        user.save()
        quiz_version(title="Keyboard quiz", difficulty="beginner")
        quiz_version(title="Hard quiz", difficulty="expert")
        return user

    in_thread(world)
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    try:
        visit(page, f"{live_url}/accounts/login/?next=/scenarios/")
        # The email field has autofocus; everything after it is Tab, typing and Enter.
        expect(page.locator("#id_email")).to_be_focused()
        page.keyboard.type("keys@example.com")
        page.keyboard.press("Tab")
        expect(page.locator("#id_password")).to_be_focused()
        page.keyboard.type("wrong password")
        page.keyboard.press("Enter")
        expect(page.locator("#id_password")).to_have_attribute("aria-invalid", "true")
        page.locator("#id_password").focus()
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"^http://[^/]+/scenarios/$"))

        # Catalog filters: Tab from the top of the page to the search box, then to the difficulty select.
        for _ in range(30):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "id_q":
                break
        expect(page.locator("#id_q")).to_be_focused()
        page.keyboard.type("quiz")
        for _ in range(10):
            if page.evaluate("document.activeElement.id") == "id_difficulty":
                break
            page.keyboard.press("Tab")
        expect(page.locator("#id_difficulty")).to_be_focused()
        page.keyboard.press("ArrowDown")  # "Beginner"
        expect(page.locator(".scenario-card")).to_have_count(1)
        expect(page.locator(".scenario-card")).to_contain_text("Keyboard quiz")

        # Into the scenario, start answering, and answer with the keyboard alone.
        card_link = page.get_by_role("link", name="Keyboard quiz")
        card_link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/scenarios/[^/]+/$"))
        page.get_by_role("button", name="Answer questions").focus()
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/sessions/[^/]+/$"))
        answer = page.locator("#question-q1").get_by_label("Your answer")
        answer.focus()
        page.keyboard.type("RX{quiz}")
        page.keyboard.press("Enter")
        expect(page.locator("#question-q1")).to_contain_text(re.compile(r"Solved, 50 points"))
        page.screenshot(path="/tmp/learners-keyboard-session.png", full_page=True)
    finally:
        context.close()
