"""In a real browser: a solver adds a scenario to a new playlist, shares it, and follows a path's progress."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.paths.factories import career_path, completed_session_row
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.browser


def test_solver_builds_a_playlist_and_sees_path_progress(page: Page, live_url, demo_accounts):
    web = published_version(slug="web-201", title="Web 201")
    sql = published_version(slug="sql-201", title="SQL 201")
    solver = User.objects.get(email="solver@rangex.local")
    completed_session_row(user=solver, version=web)
    career_path(versions=[web, sql], title="Injection track")

    page.goto(f"{live_url}/accounts/login/?next=/scenarios/sql-201/")
    page.get_by_label("Email").fill("solver@rangex.local")
    page.get_by_label("Password").fill(demo_accounts["solver@rangex.local"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="SQL 201", level=1)).to_be_visible()

    page.get_by_label("New playlist name").fill("Weekend")
    page.get_by_role("button", name="Add to playlist").click()
    expect(page.get_by_text("Added SQL 201 to Weekend.")).to_be_visible()

    page.goto(f"{live_url}/paths/")
    expect(page.get_by_text("1 of 2 completed")).to_be_visible()
    page.get_by_role("link", name="Weekend").click()
    expect(page.get_by_role("heading", name=re.compile("Weekend"))).to_contain_text("private")
    page.get_by_role("button", name="Share publicly").click()
    expect(page.get_by_role("button", name="Make private")).to_be_visible()

    page.goto(f"{live_url}/paths/")
    page.get_by_role("link", name="Injection track").click()
    expect(page.get_by_text("1 of 2 completed (50%).")).to_be_visible()
    expect(page.get_by_role("link", name="SQL 201").first).to_be_visible()

    page.goto(f"{live_url}/badges/me/")
    expect(page.get_by_role("heading", name="Completed scenarios (1)")).to_be_visible()
    expect(page.locator("#weekly-chart")).to_be_attached()
