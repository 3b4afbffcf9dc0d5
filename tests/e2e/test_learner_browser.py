"""Issue 26's "done when": a learner over two labs on two days sees the scenario and the path complete.

Day one runs on a server forked while the clock is moved back a day (time-machine: the child keeps
the moved clock); day two on the ordinary live server. Cookies ignore ports, so one browser context
is the same signed-in learner on both.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta
from functools import partial

import pytest
import time_machine
from django.db import connections
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory, login_client
from apps.environments.factories import QUIZ_QUESTIONS, quiz_version
from apps.paths.factories import career_path
from tests.e2e.conftest import _child_setup, _make_application
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

THREE = [
    *[dict(q) for q in QUIZ_QUESTIONS],
    {"id": "q3", "type": "numeric", "prompt": "2 + 2?", "points": 5, "answer": 4, "tolerance": 0},
]


@contextmanager
def _server_at(moment):
    """Serve RangeX from a Daphne child forked while the clock reads ``moment`` (and ticks on from there)."""
    from daphne.testing import DaphneProcess

    for conn in connections.all():
        conn.close()
    with time_machine.travel(moment, tick=True):
        process = DaphneProcess("127.0.0.1", partial(_make_application), setup=_child_setup)
        process.start()
    try:
        assert process.ready.wait(timeout=30), "Daphne did not start"
        yield f"http://127.0.0.1:{process.port.value}"
    finally:
        process.terminate()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


def _answer(page, question_id: str, answer: str) -> None:
    block = page.locator(f"#question-{question_id}")
    if question_id == "q2":
        block.get_by_label("22").check()
    else:
        block.get_by_label("Your answer").fill(answer)
    block.get_by_role("button", name="Submit").click()
    expect(block).to_contain_text(re.compile(r"Solved, \d+ points"))


def test_a_learner_finishes_a_scenario_and_a_path_over_two_labs_on_two_days(browser, live_url):
    def setup():
        first = quiz_version(title="First Steps", questions=[dict(q) for q in THREE])
        second = quiz_version(title="Second Steps")
        path = career_path(versions=[first, second], title="Beginner path")
        from apps.accounts.factories import AdminFactory
        from apps.badges import services as badge_services

        badge_services.badge_create(
            actor=AdminFactory(), name="Path finisher", description="Finished the beginner path.",
            requirements=[{"requirement_type": "complete_path", "career_path": path}],
        )  # fmt: skip
        return UserFactory(display_name="Lea"), first, second, path

    learner, first, _second, path = in_thread(setup)
    client = in_thread(lambda: login_client(learner))
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        yesterday = timezone.now() - timedelta(days=1)
        with _server_at(yesterday) as day_one:
            context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": day_one}])
            visit(page, f"{day_one}/scenarios/{first.scenario.slug}/")
            page.get_by_role("button", name="Answer questions").click()
            _answer(page, "q1", "RX{quiz}")
            _answer(page, "q2", "")
            page.screenshot(path="/tmp/learners-day1-lab.png", full_page=True)
            page.get_by_role("button", name="End").click()
            visit(page, f"{day_one}/paths/{path.pk}/")
            expect(page.get_by_text("0 of 2 completed")).to_be_visible()

        # Day two: the home page resumes, the new lab starts where day one left off.
        visit(page, f"{live_url}/")
        expect(page.locator("#continue")).to_contain_text("You last played First Steps")
        expect(page.locator("#next-path-item")).to_contain_text("First Steps")
        expect(page.locator("#streak")).to_have_text("1 day")
        page.screenshot(path="/tmp/learners-day2-home.png", full_page=True)
        page.get_by_role("link", name="Pick up First Steps").click()
        expect(page.get_by_text("You have solved 66% of its questions")).to_be_visible()
        page.get_by_role("button", name="Answer questions").click()
        expect(page.locator("#question-q1")).to_contain_text(re.compile(r"Solved, 50 points"))
        expect(page.locator("#question-q2")).to_contain_text(re.compile(r"Solved, 10 points"))
        expect(page.locator("#score")).to_have_text("60")
        _answer(page, "q3", "4")
        expect(page.locator("#score")).to_have_text("65")
        page.reload()
        expect(page.locator("#next-steps")).to_contain_text("Next in Beginner path: Second Steps")
        page.screenshot(path="/tmp/learners-day2-finished-lab.png", full_page=True)
        page.locator("#next-steps").get_by_role("link", name="Second Steps").click()
        page.get_by_role("button", name="Answer questions").click()
        _answer(page, "q1", "RX{quiz}")
        _answer(page, "q2", "")

        visit(page, f"{live_url}/paths/{path.pk}/")
        expect(page.get_by_text("2 of 2 completed")).to_be_visible()
        expect(page.get_by_text("All done!")).to_be_visible()
        page.screenshot(path="/tmp/learners-day2-path.png", full_page=True)
        page.get_by_role("link", name="Get your certificate").click()
        expect(page.locator("#certificate-status")).to_contain_text("Valid certificate")
        expect(page.locator("#certificate")).to_contain_text("Lea")
        page.screenshot(path="/tmp/learners-certificate.png", full_page=True)
        page.locator("#verify-link").click()
        expect(page.locator("#certificate-status")).to_contain_text("Valid certificate")

        # The badge the path earned is shareable as an Open Badges 3.0 credential.
        visit(page, f"{live_url}/badges/me/")
        page.get_by_role("link", name="Share Path finisher").click()
        expect(page.locator("#credential-status")).to_contain_text("Valid.")
        page.screenshot(path="/tmp/learners-credential.png", full_page=True)
        visit(page, f"{live_url}/scenarios/{first.scenario.slug}/")
        expect(page.get_by_test_id("completed")).to_be_visible()
        visit(page, f"{live_url}/")
        expect(page.locator("#streak")).to_have_text("2 days")
        expect(page.locator("#points")).to_have_text("125")
        page.screenshot(path="/tmp/learners-day2-home-after.png", full_page=True)
    finally:
        context.close()


def test_the_badge_requirement_form_shows_only_the_chosen_types_fields(new_page, live_url):
    from apps.accounts.factories import AdminFactory, enable_2fa

    def setup():
        admin = AdminFactory()
        secret, _ = enable_2fa(admin)
        published_version = quiz_version(title="Port quiz")
        return admin, secret, published_version

    admin, secret, version = in_thread(setup)
    page = new_page(admin, secret=secret, viewport={"width": 1280, "height": 900})
    visit(page, f"{live_url}/admin/badges/badge/add/")
    row = page.locator("#requirements-0")
    row.locator("select[name='requirements-0-requirement_type']").select_option("complete_count")
    expect(row.locator(".field-count")).to_be_visible()
    expect(row.locator(".field-category")).to_be_visible()
    expect(row.locator(".field-scenario")).to_be_hidden()
    expect(row.locator(".field-event_id")).to_be_hidden()
    row.locator("select[name='requirements-0-requirement_type']").select_option("complete_scenario")
    expect(row.locator(".field-scenario")).to_be_visible()
    expect(row.locator(".field-count")).to_be_hidden()
    row.get_by_label("Scenario").fill(f"Port quiz ({version.scenario.slug})")
    page.screenshot(path="/tmp/learners-admin-requirement.png", full_page=True)
    page.get_by_label("Name:").fill("Quizzer")
    page.locator("input[name='_save']").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")


def test_path_items_are_reordered_by_dragging_in_the_admin(new_page, live_url):
    from apps.accounts.factories import AdminFactory, enable_2fa
    from apps.paths.factories import career_path as make_path

    def setup():
        admin = AdminFactory()
        secret, _ = enable_2fa(admin)
        path = make_path(admin=admin, versions=[quiz_version(title="Alpha lab"), quiz_version(title="Beta lab")])
        return admin, secret, path

    admin, secret, path = in_thread(setup)
    page = new_page(admin, secret=secret, viewport={"width": 1280, "height": 900})
    visit(page, f"{live_url}/admin/paths/careerpath/{path.pk}/change/")
    first, second = page.locator("#items-0"), page.locator("#items-1")
    second.drag_to(first)
    expect(page.locator("input[name='items-1-sort_order']")).to_have_value("1")
    expect(page.locator("input[name='items-0-sort_order']")).to_have_value("2")
    page.screenshot(path="/tmp/learners-admin-sortable.png", full_page=True)
    page.locator("input[name='_continue']").click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    titles = in_thread(lambda: [i.scenario_version.title for i in path.items.order_by("sort_order")])
    assert titles == ["Beta lab", "Alpha lab"]
