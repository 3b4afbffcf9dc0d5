"""In a real browser: no favicon 404, and forbidden or unknown pages keep the site's look (issue 17)."""

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from tests.e2e.event_helpers import visit

pytestmark = pytest.mark.browser


def test_pages_load_without_a_missing_favicon_and_errors_keep_the_site_style(new_page, live_url):
    page = new_page(UserFactory())
    failed = []
    page.on("response", lambda response: failed.append(response.url) if response.status >= 400 else None)
    visit(page, f"{live_url}/scenarios/")
    assert page.request.get(f"{live_url}/favicon.ico").ok
    assert failed == []

    visit(page, f"{live_url}/studio/import/")
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text("Only creators and admins may import scenarios.")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Scenarios")).to_be_visible()

    visit(page, f"{live_url}/no-such-page/")
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    page.get_by_role("link", name="Browse scenarios").click()
    expect(page).to_have_url(f"{live_url}/scenarios/")
