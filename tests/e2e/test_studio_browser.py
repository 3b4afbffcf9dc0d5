"""In a real browser: a creator authors a scenario from an empty admin without typing JSON, meets a
validation error half-way and loses nothing, previews it and submits it; an admin is notified and
approves it. The page loads and form posts of the authoring are counted (for the closing note)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_review_browser import _sign_in_with_2fa

# The admin approves without a test deployment here: the publish gate is walked in test_review_browser.py.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("publish_gate_off")]
SHOTS = "/tmp/studio-{}.png"


@pytest.fixture
def catalogue(demo_accounts):
    """The demo accounts and the curated image variants; no scenario at all."""
    from apps.scenarios import demo

    demo._variants()
    return demo_accounts


class Counter:
    """Count the document loads and form posts of a page (what a creator waits for)."""

    def __init__(self, page: Page):
        self.loads = 0
        self.posts = 0
        self.failed = 0
        page.on("request", self._request)

    def _request(self, request):
        if request.resource_type == "document":
            if request.method == "POST":
                self.posts += 1
            else:
                self.loads += 1


def test_author_a_scenario_without_json_and_get_it_approved(browser: Browser, live_url, catalogue):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in_with_2fa(page, live_url, "creator@rangex.local", catalogue["creator@rangex.local"])
    count = Counter(page)
    page.goto(f"{live_url}/admin/scenarios/scenario/add/")
    page.get_by_label("Title:").fill("Web Login Bypass")
    page.get_by_label("Short description:").fill("Bypass a login form and pivot to an internal host.")
    page.get_by_label("Category:").fill("web")
    page.screenshot(path=SHOTS.format("add"), full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Scenario created")
    page.screenshot(path=SHOTS.format("version"), full_page=True)

    # The version page: mission with its Markdown preview, tags.
    page.get_by_label("Tags:").fill("web, pivoting")
    page.get_by_label("Hint mode:").select_option("penalty")
    page.locator('textarea[name="mission_text"]').fill(
        "# Web Login Bypass\n\nGet past the **login form**, then pivot to `internal`."
    )
    expect(page.get_by_role("region", name="Preview of mission text")).to_contain_text("login form")
    expect(page.get_by_role("region", name="Preview of mission text").locator("strong")).to_have_text("login form")

    # Two machines on two networks; the first is the pivot host solvers enter.
    page.get_by_text("Add another Machine").click()
    page.locator('[name="machines-0-name"]').fill("gateway")
    page.locator('[name="machines-0-network_group"]').fill("dmz")
    page.locator('[name="machines-0-is_pivot_host"]').check()
    page.locator('[name="machines-0-allow_solver_entry"]').check()
    page.locator('[name="machines-0-image_variant"]').select_option(index=1)
    page.get_by_text("Add another Machine").click()
    page.locator('[name="machines-1-name"]').fill("web")
    page.locator('[name="machines-1-network_group"]').fill("internal")
    page.locator('[name="machines-1-image_variant"]').select_option(index=1)
    page.get_by_text("Add another Network pivot point").click()
    page.locator('[name="pivot_points-0-source_network_group"]').fill("dmz")
    page.locator('[name="pivot_points-0-target_network_group"]').fill("internal")

    # The diagram follows what is typed: two machines on two networks joined by the pivot host.
    expect(page.locator("#rx-topology")).to_have_attribute("data-machines", "2")
    expect(page.locator("#rx-topology")).to_have_attribute("data-networks", "2")
    page.locator("#rx-topology").screenshot(path=SHOTS.format("topology"))

    # A file copied into the machine added a moment ago (not saved yet), with a mistake in its path.
    page.get_by_text("Add another Scenario asset").click()
    page.locator('[name="assets-0-file"]').set_input_files(
        files=[{"name": "creds.txt", "mimeType": "text/plain", "buffer": b"admin:hunter2\n"}]
    )
    page.locator('[name="assets-0-file_name"]').fill("creds.txt")
    page.locator('[name="assets-0-asset_type"]').select_option("machine_file")
    page.locator('[name="assets-0-machine_name"]').select_option("web")
    page.locator('[name="assets-0-target_path"]').fill("srv/creds.txt")

    # Three question types and a hint, without a line of JSON.
    page.get_by_label("Type of the new question").select_option("flag")
    page.get_by_role("button", name="Add question").click()
    page.get_by_label("Question 1 text").fill("What is the flag on the web server?")
    page.get_by_label("Question 1 points").fill("50")
    page.get_by_label("Question 1 flag 1", exact=True).fill("flag{bypass}")
    page.get_by_role("button", name="Add a hint to question 1").click()
    page.get_by_label("Question 1 hint 1", exact=True).fill("The login form trusts a cookie.")
    page.get_by_label("Question 1 hint 1 cost").fill("10")
    page.get_by_label("Try an answer to question 1").fill("FLAG{bypass}")
    page.get_by_role("button", name="Test the answer to question 1").click()
    expect(page.locator(".rx-qe-verdict").first).to_have_text("Not accepted: 0 of 50 points.")
    page.get_by_label("Question 1 flag 1 ignores case").check()
    page.get_by_role("button", name="Test the answer to question 1").click()
    expect(page.locator(".rx-qe-verdict").first).to_have_text("Accepted: 50 of 50 points.")
    page.get_by_label("Type of the new question").select_option("single_choice")
    page.get_by_role("button", name="Add question").click()
    page.get_by_label("Question 2 text").fill("Which header carried the session?")
    page.get_by_label("Question 2 option 1", exact=True).fill("Cookie")
    page.get_by_label("Question 2 option 2", exact=True).fill("Referer")
    page.get_by_label("Question 2 option 1 is correct").check()
    page.get_by_label("Type of the new question").select_option("numeric")
    page.get_by_role("button", name="Add question").click()
    page.get_by_label("Question 3 text").fill("How many networks does the lab have?")
    page.get_by_label("Question 3 answer").fill("2")
    # Duplicate, move to the top, and delete again: the editor's list tools.
    page.get_by_role("button", name="Duplicate question 3").click()
    expect(page.get_by_label("Question 4 id")).to_have_value("q4")
    expect(page.get_by_label("Question 4 answer")).to_have_value("2")
    for position in (4, 3, 2):
        page.get_by_role("button", name=f"Move question {position} up").click()
    expect(page.get_by_label("Question 1 id")).to_have_value("q4")
    expect(page.get_by_label("Question 2 id")).to_have_value("q1")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete question 1").click()
    expect(page.locator(".rx-qe-card")).to_have_count(3)
    expect(page.get_by_label("Question 1 id")).to_have_value("q1")
    page.screenshot(path=SHOTS.format("authored"), full_page=True)
    # The version page fits a 1,280 px window (wide tables scroll inside their box).
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    # Save: the path is refused, next to its field, and nothing typed is lost.
    page.get_by_role("button", name="Save and continue editing").click()
    count.failed += 1
    expect(page.locator(".errornote").first).to_contain_text("correct the error")
    expect(page.locator("#scenarioversion_form")).to_contain_text("Give the absolute path inside the machine")
    page.screenshot(path=SHOTS.format("failed-save"), full_page=True)
    expect(page.locator('textarea[name="mission_text"]')).to_have_value(re.compile("login form"))
    expect(page.locator('[name="machines-1-name"]')).to_have_value("web")
    expect(page.locator('[name="pivot_points-0-target_network_group"]')).to_have_value("internal")
    expect(page.get_by_label("Question 2 option 1", exact=True)).to_have_value("Cookie")
    expect(page.get_by_label("Question 1 hint 1", exact=True)).to_have_value("The login form trusts a cookie.")
    expect(page.locator(".rx-staged-file")).to_contain_text("creds.txt")
    expect(page.locator('[name="assets-0-machine_name"]')).to_have_value("web")
    page.locator('[name="assets-0-target_path"]').fill("/srv/creds.txt")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")

    # Check, then preview the solver's page, then submit.
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#rx-checklist")).to_contain_text("Ready for review")
    page.screenshot(path=SHOTS.format("checked"), full_page=True)
    page.get_by_role("link", name="Preview").click()
    expect(page.locator("#preview-banner")).to_contain_text("Preview")
    expect(page.locator(".mission strong")).to_have_text("login form")
    page.screenshot(path=SHOTS.format("preview"), full_page=True)
    page.go_back()
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messagelist")).to_contain_text("submitted for review")
    authoring = {"loads": count.loads, "posts": count.posts, "failed": count.failed}
    print(f"\nAUTHORING: {count.loads} page loads, {count.posts} form posts, {count.failed} failed saves")
    page.close()

    from apps.scenarios.models import ScenarioVersion

    version = ScenarioVersion.objects.get(scenario__slug="web-login-bypass")
    assert [q["type"] for q in version.questions] == ["flag", "single_choice", "numeric"]
    assert version.hints == [{"id": "h1", "question_id": "q1", "text": "The login form trusts a cookie.", "cost": 10}]
    asset = version.assets.get()
    assert asset.machine.name == "web" and asset.file.read() == b"admin:hunter2\n"

    # The admin is told, opens the notification and approves.
    admin = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in_with_2fa(admin, live_url, "admin@rangex.local", catalogue["admin@rangex.local"])
    admin.goto(f"{live_url}/accounts/notifications/")
    admin.get_by_role("link", name=re.compile("Submitted for review: Web Login Bypass")).first.click()
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator(".messagelist")).to_contain_text("approved")
    admin.screenshot(path=SHOTS.format("approved"), full_page=True)
    version.refresh_from_db()
    assert version.status == "APPROVED"
    assert authoring["failed"] == 1


def test_drag_a_question_by_its_handle_to_reorder(browser: Browser, live_url, catalogue):
    from apps.accounts.models import User
    from apps.scenarios.factories import draft_version

    creator = User.objects.get(email="creator@rangex.local")
    version = draft_version(creator=creator)
    second = {**version.questions[0], "id": "q2", "prompt": "The second question"}
    version.questions = [*version.questions, second]
    version.save(update_fields=["questions"])
    page = browser.new_page(viewport={"width": 1280, "height": 2000})
    _sign_in_with_2fa(page, live_url, "creator@rangex.local", catalogue["creator@rangex.local"])
    page.goto(f"{live_url}/admin/scenarios/scenarioversion/{version.pk}/change/")
    page.locator(".rx-qe-card").nth(1).locator(".rx-qe-handle").drag_to(page.locator(".rx-qe-card").nth(0))
    expect(page.get_by_label("Question 1 id")).to_have_value("q2")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    version.refresh_from_db()
    assert [q["id"] for q in version.questions] == ["q2", "q1"]


def test_a_read_only_machine_with_an_ssh_login_is_named_by_the_check(browser: Browser, live_url, catalogue):
    """A creator ticks "read-only root file system" under a machine's Advanced settings; the machine
    still has an SSH login, which needs a writable root, so Check says so next to the machines."""
    from apps.accounts.models import User
    from apps.scenarios.factories import draft_version

    creator = User.objects.get(email="creator@rangex.local")
    version = draft_version(
        creator=creator,
        machines=[{"name": "attacker"}, {"name": "web", "role": "victim", "ssh_username": "player"}],
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in_with_2fa(page, live_url, "creator@rangex.local", catalogue["creator@rangex.local"])
    page.goto(f"{live_url}/admin/scenarios/scenarioversion/{version.pk}/change/")
    read_only = page.locator('[name="machines-1-read_only_root"]')
    read_only.locator("xpath=ancestor::details[1]/summary").click()  # the machine's Advanced section
    expect(read_only).to_be_visible()
    read_only.check()
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#rx-checklist")).to_contain_text(
        "Machine 'web' has a read-only root, so RangeX cannot create its SSH login."
    )
    page.locator("#rx-checklist").screenshot(path=SHOTS.format("read-only-check"))
    assert version.machines.get(name="web").read_only_root
