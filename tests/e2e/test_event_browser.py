"""In real browsers (Debian's Chromium), one context per player (issue 25): teammates reach their team's
shared lab and answer on its page (defects 2 and 1), event times show in the event's zone with the
viewer's own beside them (5), the admin's Today/Now fill in the event's zone (6), and an open board
notices the freeze by itself (14)."""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.factories import AdminFactory, UserFactory, enable_2fa
from apps.environments.factories import STATIC_FLAG
from apps.events import services
from apps.events.factories import lab_version, make_event, team_of, version_of
from apps.events.models import Event
from apps.teams.models import TeamMember
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

KL = zoneinfo.ZoneInfo("Asia/Kuala_Lumpur")


@pytest.fixture
def stop_event_labs(runtime):
    """Remove, after the test, whatever the labs the live server started left on the engine."""
    yield
    from apps.environments.models import EnvironmentSession

    for session_id in EnvironmentSession.objects.values_list("pk", flat=True):
        runtime.stop(str(session_id))


def test_teammates_open_the_team_lab_and_answer_on_its_page(new_page, live_url, stop_event_labs):
    """Defect 2: "Open the team lab" sent a teammate back to the challenges page with no message.
    Defect 1 in the browser: the answer on the lab's page scores for the team in the event."""
    version = lab_version(title="Shared box")
    event = in_thread(
        lambda: make_event(versions=[version], format="team", environment_mode="shared", allow_late_registration=True)
    )
    team = in_thread(lambda: team_of(size=2, name="Pair"))
    leader, member = (m.user for m in TeamMember.objects.filter(team=team).order_by("joined_at", "id"))
    in_thread(lambda: services.event_register(event=event, user=leader, team=team))

    leader_page = new_page(leader)
    visit(leader_page, f"{live_url}/events/{event.pk}/challenges/")
    leader_page.get_by_role("button", name="Open the team lab").click()
    expect(leader_page).to_have_url(re.compile(r"/sessions/[0-9a-f-]+/$"), timeout=60_000)
    lab_url = leader_page.url

    member_page = new_page(member)
    visit(member_page, f"{live_url}/events/{event.pk}/challenges/")
    member_page.get_by_role("button", name="Open the team lab").click()
    expect(member_page).to_have_url(lab_url)
    visit(member_page, lab_url)  # its scripts (htmx) surely loaded
    expect(member_page.get_by_role("heading", name="Shared box")).to_be_visible()

    member_page.locator("#a-q1").fill(STATIC_FLAG)
    member_page.locator("#question-q1").get_by_role("button", name="Submit").click()
    expect(member_page.locator("#question-q1")).to_contain_text("Correct! 10 points.")
    visit(leader_page, f"{live_url}/events/{event.pk}/challenges/")
    expect(leader_page.locator('.question[data-question="q1"]')).to_contain_text("Solved by your team · 10 points")
    visit(leader_page, f"{live_url}/events/{event.pk}/scoreboard/")
    expect(leader_page.locator("#scoreboard tbody tr").first).to_contain_text("Pair")
    expect(leader_page.locator("#scoreboard tbody tr").first).to_contain_text("10")


def test_event_times_show_in_the_events_zone_with_the_viewers_own_beside(new_page, live_url):
    """Defect 5: times were labelled Asia/Kuala_Lumpur but shown in UTC."""
    start = datetime(2030, 1, 10, 9, 0, tzinfo=KL)
    event = in_thread(
        lambda: make_event(
            live=False, name="KL Open", timezone="Asia/Kuala_Lumpur", start_date=start,
            end_date=start + timedelta(hours=8),
        )
    )  # fmt: skip
    page = new_page(timezone_id="America/New_York", locale="en-CA")
    visit(page, f"{live_url}/events/{event.pk}/")
    times = page.locator("time[data-event-time]")
    expect(times.first).to_have_text("2030-01-10 09:00 (Asia/Kuala_Lumpur)")
    # 09:00 in Kuala Lumpur (UTC+8) is 20:00 the evening before in New York (UTC-5).
    expect(page.locator(".local-time").first).to_contain_text("2030-01-09")
    expect(page.locator(".local-time").first).to_contain_text("20:00 (America/New_York)")
    visit(page, f"{live_url}/events/")
    expect(page.locator("time[data-event-time]").first).to_have_text("2030-01-10 09:00 (Asia/Kuala_Lumpur)")


def test_the_admins_today_and_now_fill_in_the_events_zone(new_page, live_url):
    """Defect 6: Today/Now filled in UTC while the form read the event's zone: the start landed 8 hours
    early, and a freeze set with Now was refused."""
    admin = AdminFactory()
    secret, _ = enable_2fa(admin)
    page = new_page(admin, secret=secret, timezone_id="UTC")
    visit(page, f"{live_url}/admin/events/event/add/")
    page.get_by_label("Name:").fill("Now CTF")
    page.locator("#id_timezone").select_option("Asia/Kuala_Lumpur")
    for field in ("start_date", "freeze_at"):
        page.locator(f"#id_{field}_0 ~ .datetimeshortcuts a", has_text="Today").click()
        page.locator(f"#id_{field}_1 ~ .datetimeshortcuts a", has_text="Now").click()
    kl_now = timezone.localtime(timezone.now(), KL)
    assert page.locator("#id_start_date_0").input_value() == f"{kl_now:%Y-%m-%d}"
    clock = page.locator("#id_start_date_1").input_value()
    filled = datetime.strptime(f"{kl_now:%Y-%m-%d} {clock}", "%Y-%m-%d %H:%M:%S")
    assert abs(filled.replace(tzinfo=KL) - kl_now) < timedelta(minutes=2)
    later = kl_now + timedelta(days=1)
    page.locator("#id_end_date_0").fill(f"{later:%Y-%m-%d}")
    page.locator("#id_end_date_1").fill(f"{later:%H:%M:%S}")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    event = Event.objects.get(name="Now CTF")
    assert abs(event.start_date - timezone.now()) < timedelta(minutes=2)
    assert event.start_date <= event.freeze_at < event.end_date


def test_an_open_board_notices_the_freeze_without_a_reload(new_page, live_url):
    """Defect 14: an open board did not notice a freeze until reloaded."""
    event = in_thread(lambda: make_event(allow_late_registration=True, name="Freezing CTF"))
    early, late = UserFactory(display_name="Early"), UserFactory(display_name="Late")
    for user in (early, late):
        in_thread(lambda user=user: services.event_register(event=event, user=user))
    version = version_of(event)
    in_thread(
        lambda: services.event_submit_answer(
            event=event, user=early, version_id=version.pk, question_id="q1", answer="RX{one}"
        )
    )
    public = new_page()
    visit(public, f"{live_url}/events/{event.pk}/scoreboard/")
    expect(public.locator("#board-status")).to_have_text("Live", timeout=10_000)
    expect(public.locator("#board-frozen")).to_be_hidden()
    admin = AdminFactory()
    secret, _ = enable_2fa(admin)
    admin_page = new_page(admin, secret=secret)
    visit(admin_page, f"{live_url}/events/{event.pk}/scoreboard/")
    expect(admin_page.locator("#board-status")).to_have_text("Live", timeout=10_000)

    # The organiser sets a freeze a few seconds ahead; the open pages learn when, and then see it come.
    event.freeze_at = timezone.now() + timedelta(seconds=3)
    in_thread(lambda: services.event_save(event=event, actor=event.created_by_user, changed=["freeze_at"]))
    expect(public.locator("#board-frozen")).to_be_visible(timeout=15_000)
    expect(admin_page.locator("#board-admin-live")).to_be_visible(timeout=15_000)
    in_thread(
        lambda: services.event_submit_answer(
            event=event, user=late, version_id=version.pk, question_id="q1", answer="RX{one}"
        )
    )
    in_thread(
        lambda: services.event_submit_answer(
            event=event, user=late, version_id=version.pk, question_id="q2", answer="RX{two}"
        )
    )
    expect(admin_page.locator("#scoreboard tbody tr").first).to_contain_text("Late", timeout=5_000)
    expect(public.locator("#scoreboard tbody tr").first).to_contain_text("Early")
    expect(public.locator("#scoreboard tbody tr").nth(1)).to_contain_text("0")
