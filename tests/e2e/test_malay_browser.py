"""Issue 23's "done when": in Malay, the solver's main pages and the admin index read in Malay.

A solver chooses Bahasa Melayu with the header's switcher, then walks home, the catalog, a scenario,
the page of a started (question-only) lab, my labs, paths, badges, events and the profile; an admin
opens the admin index. Each page's visible text, without what creators and people wrote (the
titles, missions, questions, names and addresses this test created, and any element marked
``data-creator-content``), must contain no English word from a list of common English words that
are not Malay words. The English found is printed per page, so what is left to translate is plain.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.accounts.factories import AdminFactory, UserFactory, enable_2fa
from apps.environments import services as env_services
from apps.environments.factories import quiz_version
from apps.events.factories import make_event
from apps.paths.factories import career_path
from tests.e2e.event_helpers import fresh_channel_layer, in_thread, visit  # noqa: F401

pytestmark = pytest.mark.browser

# Common English words of RangeX's pages that are not Malay words (Malay shares "data", "status",
# "pin", "bar", "jam", "min", "team" is not shared: it is "pasukan").
ENGLISH = frozenset(
    """
    the and your you yours start started stop lab labs scenario scenarios sign question questions hint hints
    with for of to in on is are this that these those not yet points point answer answers submit save
    saved profile events event paths path badges badge teams team my all more view show search filter new
    open close next previous page settings password email account dashboard running stopped time left
    minutes minute hours hour seconds progress difficulty easy medium hard category back edit delete
    cancel help home welcome please here have has been will can from by or an it as be was were what
    when where which who how there their they we our if then than no none only also about read
    unread notifications notification favourites favourite rating rate review reviews leaderboard
    scoreboard certificate upcoming live ended join leave register registered solved solve attempts
    attempt left remaining free level levels skills skill filters sort newest popular any every
    complete completed continue resume pause paused expired failed ready available
    """.split()  # noqa: SIM905 (a word list reads better as text)
)
# Names that stay as they are in every language.
ALLOWED = frozenset({"RangeX", "API", "SSH", "VNC", "UTC", "RM", "USD", "FA", "TOTP", "Bahasa", "Melayu", "English"})


def _visible_text(page) -> str:
    """The page's rendered text without elements marked as creator content."""
    return page.evaluate(
        """() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll('[data-creator-content], script, style, template').forEach(e => e.remove());
            document.documentElement.appendChild(body);  // innerText needs layout
            body.style.position = 'absolute'; body.style.left = '-99999px';
            const text = body.innerText;
            body.remove();
            return text;
        }"""
    )


def _english(text: str, creator_texts: list[str]) -> list[str]:
    """Lines of ``text`` holding English words, after removing the creators' and people's texts."""
    for known in sorted(creator_texts, key=len, reverse=True):
        if known:
            text = text.replace(known, " ")
    found = []
    for line in text.splitlines():
        words = [w for w in re.findall(r"[A-Za-z]+", line) if w not in ALLOWED and w.lower() in ENGLISH]
        if words:
            found.append(f"{' '.join(line.split())[:120]}  <- {', '.join(sorted({w.lower() for w in words}))}")
    return found


def _texts_of(*objects) -> list[str]:
    texts = []
    for obj in objects:
        for field in ("title", "name", "short_description", "description", "mission_text", "display_name",
                      "email", "public_name", "slug"):  # fmt: skip
            value = getattr(obj, field, None)
            if isinstance(value, str):
                texts.append(value)
        for question in getattr(obj, "questions", None) or []:
            texts += [question.get("prompt", ""), *[str(o) for o in question.get("options", [])]]
        for hint in getattr(obj, "hints", None) or []:
            texts.append(hint.get("text", ""))
    return [t for t in texts if t]


def test_a_solver_and_an_admin_read_rangex_in_malay(new_page, live_url):
    def setup():
        version = quiz_version(title="Port quiz")
        path = career_path(versions=[version], title="Beginner path")
        event = make_event(versions=[version], name="Spring CTF")
        solver = UserFactory(display_name="Aina")
        session = env_services.env_session_start(user=solver, version=version)
        admin = AdminFactory(display_name="Operator Ola")
        secret, _codes = enable_2fa(admin)
        return version, path, event, solver, session, admin, secret

    version, path, event, solver, session, admin, secret = in_thread(setup)
    creator_texts = _texts_of(version, version.scenario, path, event, solver, admin)

    page = new_page(solver, extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})
    visit(page, f"{live_url}/")
    page.locator("#rx-language").select_option("ms")
    page.locator("form.rx-language").get_by_role("button").click()
    expect(page.locator("html")).to_have_attribute("lang", "ms")

    pages = {
        "home": "/",
        "catalog": "/scenarios/",
        "scenario": f"/scenarios/{version.scenario.slug}/",
        "session": f"/sessions/{session.pk}/",
        "my labs": "/sessions/",
        "paths": "/paths/",
        "path": f"/paths/{path.pk}/",
        "badges": "/badges/me/",
        "events": "/events/",
        "event": f"/events/{event.pk}/",
        "profile": "/accounts/profile/",
    }
    report: dict[str, list[str]] = {}
    for name, url in pages.items():
        visit(page, f"{live_url}{url}")
        assert page.locator("html").get_attribute("lang") == "ms", f"{name} is not served in Malay"
        page.screenshot(path=f"/tmp/malay-{name.replace(' ', '-')}.png", full_page=True)
        found = _english(_visible_text(page), creator_texts)
        if found:
            report[name] = found

    admin_page = new_page(admin, secret=secret, extra_http_headers={"Accept-Language": "ms"})
    visit(admin_page, f"{live_url}/admin/")
    expect(admin_page.locator("html")).to_have_attribute("lang", "ms")
    admin_page.screenshot(path="/tmp/malay-admin-index.png", full_page=True)
    found = _english(_visible_text(admin_page), creator_texts)
    if found:
        report["admin index"] = found

    # The switcher saved the solver's choice on the account.
    solver.refresh_from_db()
    assert solver.language == "ms"

    lines = [f"[{name}] {line}" for name, found in report.items() for line in found]
    print(f"English left on the Malay pages: {len(lines)} lines on {len(report)} of {len(pages) + 1} pages")
    print("\n".join(lines))
    assert not report, f"English on the Malay pages ({len(lines)} lines):\n" + "\n".join(lines[:80])
