"""Issue 25's "Done when", in real browsers: a small team event from invitation to badges.

Two teams of two (a member joins by invitation link), a scheduled challenge release, a freeze, an
announcement, a disqualification and a reinstatement; the board, the CTFtime feed (checked against
its format), the CSV and the badges are checked on the way. One browser context per person.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.accounts.factories import AdminFactory, UserFactory, enable_2fa
from apps.events import hooks, services
from apps.events.factories import make_event, quiz_version, team_of
from apps.events.models import EventScenario
from apps.teams import services as team_services
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser


def _check_ctftime_format(feed: dict) -> None:
    """CTFtime's scoreboard feed: tasks, and standings with pos, team, score, taskStats and lastAccept."""
    assert isinstance(feed["tasks"], list) and all(isinstance(t, str) for t in feed["tasks"])
    for place, standing in enumerate(feed["standings"], start=1):
        assert set(standing) == {"pos", "team", "score", "taskStats", "lastAccept"}
        assert isinstance(standing["pos"], int) and standing["pos"] >= 1 and standing["pos"] <= place
        assert isinstance(standing["team"], str) and isinstance(standing["score"], int)
        assert isinstance(standing["lastAccept"], int)
        for task, stat in standing["taskStats"].items():
            assert task in feed["tasks"] and set(stat) == {"points", "time"}
            assert isinstance(stat["points"], int) and isinstance(stat["time"], int)
            assert stat["time"] <= standing["lastAccept"]
        assert sum(s["points"] for s in standing["taskStats"].values()) == standing["score"]


def test_a_small_team_event_end_to_end(new_page, live_url):
    admin = AdminFactory(display_name="Organiser")
    secret, _ = enable_2fa(admin)
    warmup, second = quiz_version(title="Warmup"), quiz_version(title="Second wave")
    event = in_thread(
        lambda: make_event(
            versions=[warmup, second], admin=admin, name="Team Finals", format="team", allow_late_registration=True,
            timezone="Asia/Kuala_Lumpur",
        )
    )  # fmt: skip
    EventScenario.objects.filter(event=event, scenario_version=second).update(
        release_at=timezone.now() + timedelta(hours=1)
    )
    in_thread(lambda: hooks.event_badges_save.send(event=event, actor=admin, first_blood=True, top_n=1, finisher=False))
    red_leader, red_member = UserFactory(display_name="Rita"), UserFactory(display_name="Ravi")
    red = in_thread(lambda: team_services.team_create(actor=red_leader, name="Red", max_members=4))
    blue = in_thread(lambda: team_of(size=2, name="Blue"))
    in_thread(lambda: services.event_register(event=event, user=blue.leader, team=blue))
    base = f"{live_url}/events/{event.pk}"

    # Red's leader invites Red's second player by link; the team registers on the event page.
    rita = new_page(red_leader)
    visit(rita, f"{live_url}/teams/{red.pk}/")
    rita.get_by_role("button", name="Create an invitation").click()
    expect(rita.locator("#messages")).to_contain_text("Invitation created")
    code = rita.locator(".invite-code").first.inner_text()
    ravi = new_page(red_member)
    visit(ravi, f"{live_url}/teams/invite/{code}/")
    ravi.get_by_role("button", name="Join Red").click()
    expect(ravi.locator("#messages")).to_contain_text("You joined Red.")
    visit(rita, f"{base}/")
    rita.get_by_role("button", name="Register the team").click()
    expect(rita.locator("#messages")).to_contain_text("Your team Red is registered.")

    # Blue watches the public board while Red's second player takes first blood.
    bella = new_page(blue.leader)
    visit(bella, f"{base}/scoreboard/")
    expect(bella.locator("#board-status")).to_have_text("Live", timeout=10_000)
    visit(ravi, f"{base}/challenges/")
    expect(ravi.get_by_text("Second wave")).to_have_count(0)
    ravi.get_by_label("Answer to q1").fill("RX{one}")
    ravi.get_by_role("button", name="Submit").first.click()
    expect(ravi.locator("#messages")).to_contain_text("Correct! 100 points.")
    expect(bella.locator("#scoreboard tbody tr").first).to_contain_text("Red")
    expect(bella.locator("#scoreboard tbody tr").first).to_contain_text("100")

    # The organiser freezes the board; Blue's open board says so at once, then stays put.
    event.freeze_at = timezone.now()
    in_thread(lambda: services.event_save(event=event, actor=admin, changed=["freeze_at"]))
    expect(bella.locator("#board-frozen")).to_be_visible(timeout=5_000)
    bella_play = bella.context.new_page()
    visit(bella_play, f"{base}/challenges/")
    for question, flag in (("q1", "RX{one}"), ("q2", "RX{two}")):
        bella_play.get_by_label(f"Answer to {question}").first.fill(flag)
        bella_play.locator(f'.question[data-question="{question}"]').first.get_by_role("button", name="Submit").click()
        expect(bella_play.locator("#messages")).to_contain_text("Correct!")
    visit(bella, bella.url)
    expect(bella.locator("#scoreboard tbody tr").first).to_contain_text("Red")
    visit(bella_play, f"{base}/")
    expect(bella_play.locator("#my-standing")).to_contain_text("Rank 2, 0 points (as of the freeze)")
    organiser = new_page(admin, secret=secret)
    visit(organiser, f"{base}/scoreboard/")
    expect(organiser.locator("#board-admin-live")).to_be_visible()
    expect(organiser.locator("#scoreboard tbody tr").first).to_contain_text("Blue")

    # An announcement reaches Red's open challenge page; the second wave is released on schedule.
    visit(ravi, f"{base}/challenges/")
    visit(organiser, f"{live_url}/admin/events/event/{event.pk}/announcements/")
    organiser.get_by_label("Title").fill("Second wave at the top of the minute")
    organiser.get_by_role("button", name="Announce").click()
    expect(ravi.locator("#messages")).to_contain_text("Announcement: Second wave at the top of the minute")
    in_thread(
        lambda: EventScenario.objects.filter(event=event, scenario_version=second).update(
            release_at=timezone.now() + timedelta(seconds=3)
        )
    )
    visit(ravi, f"{base}/challenges/")
    expect(ravi.locator("#next-release")).to_be_visible()
    second_wave = ravi.locator(f'.challenge[data-version="{second.pk}"]')
    expect(second_wave).to_be_visible(timeout=15_000)
    second_wave.get_by_label("Answer to q1").fill("RX{one}")
    second_wave.get_by_role("button", name="Submit").first.click()
    expect(ravi.locator("#messages")).to_contain_text("Correct! 100 points.")

    # The event ends: the board opens up and the badges are given.
    event.end_date = timezone.now()
    in_thread(lambda: services.event_save(event=event, actor=admin, changed=["end_date"]))
    in_thread(services.events_award_finished)
    visit(bella, bella.url)
    expect(bella.locator("#board-frozen")).to_be_hidden()
    expect(bella.locator("#scoreboard tbody tr").first).to_contain_text("Red")
    expect(bella.locator("#scoreboard tbody tr").first).to_contain_text("200")
    visit(rita, f"{live_url}/teams/{red.pk}/")
    expect(rita.get_by_text("Top 1 · Team Finals")).to_be_visible()

    # Red is disqualified (told why, the badge moves to Blue), then reinstated (it moves back).
    visit(organiser, f"{live_url}/admin/events/event/{event.pk}/participants/")
    organiser.get_by_label("Reason for Red").fill("Shared flags")
    organiser.locator('tr:has-text("Red") button', has_text="Disqualify").click()
    expect(organiser.locator(".messagelist")).to_contain_text("Red is disqualified")
    visit(rita, f"{base}/")
    expect(rita.locator("#my-standing")).to_contain_text("disqualified: Shared flags")
    expect(rita.locator("#unread-count")).not_to_have_text("0")
    visit(bella, f"{live_url}/teams/{blue.pk}/")
    expect(bella.get_by_text("Top 1 · Team Finals")).to_be_visible()
    organiser.get_by_label("Reason for Red").fill("Appeal upheld")
    organiser.locator('tr:has-text("Red") button', has_text="Reinstate").click()
    expect(organiser.locator(".messagelist")).to_contain_text("Red is reinstated")
    visit(bella, bella.url)
    expect(bella.get_by_text("Top 1 · Team Finals")).to_have_count(0)
    visit(rita, f"{live_url}/teams/{red.pk}/")
    expect(rita.get_by_text("Top 1 · Team Finals")).to_be_visible()

    # The feed follows CTFtime's format; the CSV has the members and a column per challenge.
    feed = bella.request.get(f"{base}/scoreboard.json").json()
    _check_ctftime_format(feed)
    assert [(s["pos"], s["team"], s["score"]) for s in feed["standings"]] == [(1, "Red", 200), (2, "Blue", 150)]
    assert feed["tasks"] == ["Warmup/q1", "Warmup/q2", "Second wave/q1", "Second wave/q2"]
    exported = organiser.request.get(f"{live_url}/admin/events/event/{event.pk}/scoreboard.csv").text()
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["rank"], r["participant"], r["Warmup"], r["Second wave"]) for r in rows] == [
        ("1", "Red", "100", "100"),
        ("2", "Blue", "150", "0"),
    ]
    assert re.search(r"Rita <.+>; Ravi <.+>", rows[0]["members"])
