"""In a real browser: the Desktop Pivot demo (issue 22). The solver types a SOCKS tunnel through the
pivot into the desktop's terminal, and the desktop then reaches the intranet web server that only
the internal network reaches, with curl and with Firefox on the desktop. Screenshot:
/tmp/desktops-5-firefox.png."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import UserFactory
from apps.environments import services
from apps.environments.factories import ensure_desktop_image
from apps.environments.models import EnvironmentSession
from apps.images.management.commands.build_images import Command as BuildImages
from apps.scenarios.models import ScenarioVersion
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401
from tests.e2e.test_desktop_browser import _click_terminal, _connected, open_desktops

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_lab(runtime):
    from django.core.management import call_command

    ensure_desktop_image()
    if not all(BuildImages.image_present(f"rangex/{name}:latest") for name in ("attacker", "victim-web", "pivot")):
        call_command("build_images", "--set", "demo")
    from apps.accounts import demo as account_demo
    from apps.scenarios import demo

    account_demo.seed(StringIO())
    demo.seed(StringIO())
    version = ScenarioVersion.objects.get(scenario__slug="desktop-pivot")
    solver = UserFactory()
    session = in_thread(lambda: services.env_session_start(user=solver, version=version))
    yield solver, session
    for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
        runtime.stop(str(session_id))


def _run(runtime, session, command: str, timeout: float = 20.0) -> str:
    result = runtime.run_command(str(session.pk), "desktop", ["sh", "-c", command], user="player", timeout=timeout)
    return result.output.decode("utf-8", "replace")


def test_the_desktop_reaches_the_intranet_through_a_tunnel_typed_in_its_terminal(new_page, live_url, demo_lab, runtime):
    solver, session = demo_lab
    page = new_page(solver, viewport={"width": 1400, "height": 1000})
    open_desktops(page, f"{live_url}/sessions/{session.pk}/")
    page.locator("#desktops").scroll_into_view_if_needed()
    _connected(page)
    page.wait_for_timeout(2000)
    # Without the tunnel the desktop cannot reach the intranet at all.
    assert "Acme intranet" not in _run(runtime, session, "curl -s -m 3 http://victim-web/ || true")

    # In the desktop's terminal: a SOCKS tunnel through the pivot, as the mission says.
    _click_terminal(page)
    page.keyboard.type("ssh -o StrictHostKeyChecking=no -N -D 1080 player@pivot\n", delay=10)
    deadline = time.monotonic() + 20
    while "password" not in _run(runtime, session, "ps ax -o args | grep -c '[s]sh -o' || true; echo password"):
        assert time.monotonic() < deadline
    page.wait_for_timeout(2500)
    page.keyboard.type("pivot-demo\n", delay=10)
    deadline = time.monotonic() + 20
    while "Acme intranet" not in _run(
        runtime, session, "curl -s -m 3 --socks5-hostname 127.0.0.1:1080 http://victim-web/"
    ):
        assert time.monotonic() < deadline, "the tunnel never carried a request"
        time.sleep(0.5)

    # Firefox, started on the desktop as the solver would (the player's profile, the image's proxy
    # policy), loads the intranet page through the tunnel: its window on the desktop's display takes
    # the page's title, and the intranet server logged what only a browser asks for (the favicon).
    assert "favicon.ico" not in runtime.machine_logs(str(session.pk), "victim-web", tail=200)
    _run(runtime, session, "DISPLAY=:1 HOME=/home/player setsid firefox-esr http://victim-web/ >/dev/null 2>&1 &")
    deadline = time.monotonic() + 60
    titles = ""
    while "Acme intranet" not in titles:
        assert time.monotonic() < deadline, f"Firefox never showed the intranet page; its windows: {titles!r}"
        time.sleep(1)
        titles = _run(runtime, session, "DISPLAY=:1 xwininfo -root -tree | grep -i firefox || true")
    assert "Mozilla Firefox" in titles
    # Firefox asks for the favicon once the page is shown, so the request may follow the title.
    deadline = time.monotonic() + 20
    while "GET /favicon.ico" not in (log := runtime.machine_logs(str(session.pk), "victim-web", tail=200)):
        assert time.monotonic() < deadline, f"the intranet never saw Firefox's favicon request: {log!r}"
        time.sleep(0.5)
    page.wait_for_timeout(3000)  # the next frames reach the browser
    page.screenshot(path="/tmp/desktops-5-firefox.png")
    expect(page.locator("#desktops")).to_have_attribute("data-connected", "desktop")
