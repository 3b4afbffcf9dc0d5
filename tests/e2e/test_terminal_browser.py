"""In a real browser: the lab's terminal behaves like a good terminal emulator (issue 17).

Copy a flag out of the terminal into the answer field; paste into the terminal; keep the shell over a
reload and a dropped network; a second shell on the same machine; search; full screen.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import STATIC_FLAG, pivot_version
from apps.environments.models import EnvironmentSession
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

CLIPBOARD = ["clipboard-read", "clipboard-write"]


@pytest.fixture
def lab(runtime):
    solver = UserFactory()
    version = pivot_version()
    session = in_thread(lambda: services.env_session_start(user=solver, version=version))
    yield solver, session
    for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
        runtime.stop(str(session_id))


def _terminal(page, machine="attacker", tab="1"):
    return page.locator(f'[data-terminal="{machine}"][data-tab="{tab}"]')


def _type(page, pane, text: str) -> None:
    pane.locator(".xterm").click()
    page.keyboard.type(text)


def _ready(page, pane):
    expect(pane.locator(".xterm-rows")).to_contain_text("#", timeout=15_000)


def test_a_flag_copied_out_of_the_terminal_is_submitted_as_the_answer(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver, permissions=CLIPBOARD)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    pane = _terminal(page)
    _ready(page, pane)
    # The command line spells the flag differently, so only the output row holds it whole.
    _type(page, pane, 'echo RX{stat""ic-flag}\n')
    row = pane.locator(".xterm-rows > div", has_text=re.compile(r"^RX\{static-flag\}\s*$"))
    expect(row).to_have_count(1, timeout=10_000)

    # A double click selects the whole flag, braces included, and selecting copies it.
    box = row.bounding_box()
    page.mouse.dblclick(box["x"] + 30, box["y"] + box["height"] / 2)
    page.keyboard.press("Control+Shift+C")
    page.wait_for_function("() => navigator.clipboard.readText().then((t) => t === 'RX{static-flag}')")

    answer = page.locator("#question-q1").get_by_label("Your answer")
    answer.click()
    page.keyboard.press("Control+V")
    expect(answer).to_have_value(STATIC_FLAG)
    page.locator("#question-q1").get_by_role("button", name="Submit").click()
    expect(page.locator("#question-q1")).to_contain_text("Solved, 10 points", timeout=15_000)

    # Ctrl+Shift+V pastes the clipboard into the shell; Ctrl+C still interrupts.
    page.evaluate("() => navigator.clipboard.writeText('echo pasted-$((6*7))')")
    pane.locator(".xterm").click()
    page.keyboard.press("Control+Shift+V")
    # The clipboard is read asynchronously: wait for the pasted text before pressing Enter.
    expect(pane.locator(".xterm-rows")).to_contain_text("echo pasted-$((6*7))", timeout=15_000)
    page.keyboard.press("Enter")
    expect(pane.locator(".xterm-rows")).to_contain_text("pasted-42", timeout=15_000)


def test_a_reload_and_a_dropped_network_keep_the_shell_and_tabs_are_separate_shells(new_page, live_url, lab):
    solver, session = lab
    page = new_page(solver)
    # The terminal sockets pass through Playwright, which can cut one as a dropped network would.
    sockets = []

    def relay(route):
        sockets.append((route, route.connect_to_server()))

    page.route_web_socket(re.compile(r"/terminal/"), relay)
    visit(page, f"{live_url}/sessions/{session.pk}/")
    pane = _terminal(page)
    _ready(page, pane)
    _type(page, pane, "MARK=kept42; echo set-$MARK\n")
    expect(pane.locator(".xterm-rows")).to_contain_text("set-kept42")

    page.reload()
    pane = _terminal(page)
    # The scroll-back comes back with the shell, and the shell still knows MARK.
    expect(pane.locator(".xterm-rows")).to_contain_text("set-kept42", timeout=15_000)
    _type(page, pane, "echo again-$MARK\n")
    expect(pane.locator(".xterm-rows")).to_contain_text("again-kept42")

    route, server = sockets[-1]
    count = len(sockets)
    route.close(code=1012, reason="dropped")
    server.close(code=1012, reason="dropped")
    expect(page.locator("#terminal-state")).to_have_text("Reconnecting…")
    expect(page.locator("#terminal-state")).to_be_hidden(timeout=30_000)
    assert len(sockets) == count + 1
    _type(page, pane, "echo online-$MARK\n")
    expect(pane.locator(".xterm-rows")).to_contain_text("online-kept42")

    page.get_by_role("button", name="New shell on this machine").click()
    expect(page.get_by_role("tab", name="attacker 2")).to_have_attribute("aria-selected", "true")
    second = _terminal(page, tab="2")
    _ready(page, second)
    _type(page, second, "echo second-${MARK:-unset}\n")
    expect(second.locator(".xterm-rows")).to_contain_text("second-unset")

    page.reload()
    expect(page.get_by_role("tab", name="attacker 2")).to_be_visible()
    page.get_by_role("tab", name="attacker 2").click()
    expect(_terminal(page, tab="2").locator(".xterm-rows")).to_contain_text("second-unset", timeout=15_000)
    page.get_by_role("tab", name="attacker", exact=True).click()

    page.get_by_role("button", name="Search the terminal").click()
    page.get_by_label("Find in the terminal").fill("again-kept42")
    page.keyboard.press("Enter")
    expect(page.locator("#terminal-search")).to_have_attribute("data-found", "true")
    page.get_by_label("Find in the terminal").fill("never-printed")
    page.keyboard.press("Enter")
    expect(page.locator("#terminal-search")).to_have_attribute("data-found", "false")

    page.get_by_role("button", name="Full screen").click()
    page.wait_for_function("() => document.fullscreenElement && document.fullscreenElement.id === 'terminals'")
