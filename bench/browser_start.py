"""From the click on Start to a terminal answering, in Debian's Chromium: cold and warm, side by side.

    python bench/browser_start.py [--runs 5]

RangeX is served by Daphne in a child process (HTTP and WebSockets, the embedded task pool as
on a single-host install, its own database ``rangex_bench``). A signed-in solver opens the
scenario page of a published 3-machine, 2-network pivot lab and clicks *Start lab*; the clock
stops when the attacker's terminal on the session page shows the shell's prompt (then, untimed,
a typed ``echo READY-$((6*7))`` must echo ``READY-42``). Cold: no pool. Warm: the scenario's
pool holds one parked lab (made before the click, untimed). bench/session.py gives the same
starts through the API, the figure the browser adds to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
os.environ.setdefault("RANGEX_TEST_INSTANCE", f"rxbench-{os.getpid()}")
os.environ["RANGEX_EAGER_IN_BACKGROUND"] = "true"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import benchdb  # noqa: E402, F401
import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connections  # noqa: E402
from launch import percentile  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from apps.accounts.factories import PASSWORD, AdminFactory, CreatorFactory, UserFactory  # noqa: E402
from apps.environments import services  # noqa: E402
from apps.environments.factories import ensure_test_image, pivot_version  # noqa: E402
from apps.environments.models import LIVE_STATUSES, EnvironmentPool, EnvironmentSession, ParkStatus  # noqa: E402
from apps.runtime import get_runtime  # noqa: E402
from rangex.core.system import system_settings_update  # noqa: E402
from tests.e2e.conftest import _child_setup, _make_application  # noqa: E402


def click_to_terminal(page, base: str, slug: str) -> float:
    try:
        return _click_to_terminal(page, base, slug)
    except Exception:
        page.screenshot(path="/tmp/rxbench-browser-failed.png")
        raise


def _click_to_terminal(page, base: str, slug: str) -> float:
    page.goto(f"{base}/scenarios/{slug}/")
    button = page.locator("#start-session")
    button.wait_for()
    started = time.perf_counter()
    button.click()
    page.wait_for_url("**/sessions/**")
    rows = page.locator("#terminal-panes .xterm-rows").first
    rows.wait_for(timeout=60_000)
    prompt = "() => /[#$] /.test(document.querySelector('#terminal-panes .xterm-rows').textContent)"
    page.wait_for_function(prompt, timeout=60_000)
    answered = time.perf_counter() - started
    # Not timed (Playwright types key by key): the shell really runs what is typed.
    page.keyboard.type("echo READY-$((6*7))\n")
    page.wait_for_function(
        "() => document.querySelector('#terminal-panes .xterm-rows').textContent.includes('READY-42')", timeout=60_000
    )
    return answered


def stop_labs(version) -> None:
    for session in EnvironmentSession.objects.filter(scenario_version=version, status__in=LIVE_STATUSES):
        services.env_session_stop(session=session, actor=None, reason="benchmark")
    deadline = time.monotonic() + 120
    while (
        EnvironmentSession.objects.filter(scenario_version=version, status__in=LIVE_STATUSES).exists()
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    # The release of the machines runs as a task of its own: make sure nothing is left on the engine.
    runtime = get_runtime()
    for session_id in EnvironmentSession.objects.filter(scenario_version=version).values_list("pk", flat=True):
        runtime.stop(str(session_id))


def park_one(pool) -> None:
    version = services.pools.pool_version(pool)
    env = services.pool_env_create(pool=pool, version=version)
    deadline = time.monotonic() + 60
    while not pool.environments.filter(pk=env.pk, status=ParkStatus.PARKED).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the pool environment did not park")
        time.sleep(0.1)


def main() -> None:
    from daphne.testing import DaphneProcess

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    ensure_test_image()
    system_settings_update(actor=None, max_sessions_per_hour=10_000, max_sessions_per_day=10_000)
    tag = f"{os.getpid()}-{time.time_ns()}"
    version = pivot_version(
        creator=CreatorFactory(email=f"creator-{tag}@bench.rangex.local"),
        admin=AdminFactory(email=f"admin-{tag}@bench.rangex.local"),
    )
    user = UserFactory(email=f"solver-{tag}@bench.rangex.local")
    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=1, is_enabled=False)

    for conn in connections.all():
        conn.close()
    server = DaphneProcess("127.0.0.1", partial(_make_application), setup=_child_setup)
    server.start()
    if not server.ready.wait(timeout=30):
        raise RuntimeError("Daphne did not start")
    base = f"http://127.0.0.1:{server.port.value}"
    cold, warm = [], []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto(f"{base}/accounts/login/")
            page.fill("input[name=email]", user.email)
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            print(f"Click on Start to a terminal answering, {args.runs} runs (Chromium, 3 machines, 2 networks):")
            for index in range(args.runs):
                pool.is_enabled = False
                pool.save(update_fields=["is_enabled"])
                cold.append(click_to_terminal(page, base, version.scenario.slug))
                stop_labs(version)
                pool.is_enabled = True
                pool.save(update_fields=["is_enabled"])
                park_one(pool)
                warm.append(click_to_terminal(page, base, version.scenario.slug))
                stop_labs(version)
                print(f"  run {index + 1}/{args.runs}: cold {cold[-1]:.3f}s, warm {warm[-1]:.3f}s", flush=True)
            browser.close()
    finally:
        server.terminate()
        server.join(timeout=5)
        pool.delete()
    for label, values, goal in (("cold (no pool)", cold, 1.5), ("warm (pool claim)", warm, 0.3)):
        p50, p95 = statistics.median(values), percentile(values, 95)
        print(f"  {label:<18} p50 {p50:.3f}s  p95 {p95:.3f}s  (goal p50 <= {goal} s)")
    print(f"  warm / cold p50 {statistics.median(warm) / statistics.median(cold):.2f}")


if __name__ == "__main__":
    main()
