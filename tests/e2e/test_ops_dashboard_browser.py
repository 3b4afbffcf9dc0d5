"""In a real browser: the admin dashboard draws its usage chart under the site's own CSP."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.ops.models import UsageDaily

pytestmark = pytest.mark.browser


def test_the_usage_chart_is_drawn_without_a_csp_violation(page: Page, live_url, admin_client_2fa):
    today = timezone.localdate()
    for days_ago, hours in ((2, "3.5"), (1, "6"), (0, "2.25")):
        UsageDaily.objects.create(
            date=today - timedelta(days=days_ago), env_hours_small=hours, total_estimated_cost_rm=hours
        )
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    session = admin_client_2fa.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_url}])
    # A violation report is also a DOM event: collect them from the first script on.
    page.add_init_script(
        "window.__csp = [];"
        "document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective));"
    )

    page.goto(f"{live_url}/admin/")
    expect(page.locator("#ops-dashboard")).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('rx-usage-chart'))", timeout=30_000
    )
    chart = page.evaluate(
        "(() => { const c = Chart.getChart(document.getElementById('rx-usage-chart'));"
        " return {labels: c.data.labels.length, hours: c.data.datasets[0].data}; })()"
    )
    assert chart == {"labels": 3, "hours": [3.5, 6.0, 2.25]}
    painted = page.evaluate(
        "(() => { const c = document.getElementById('rx-usage-chart');"
        " const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        " for (let i = 3; i < px.length; i += 4) { if (px[i]) return true; } return false; })()"
    )
    assert painted, "the canvas is blank"
    assert page.evaluate("window.__csp") == []
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
