"""An event start: many solvers press Start within seconds, with a warm pool and without, side by side.

    python bench/pool_burst.py [--players 50] [--window 10]

Each of ``--players`` solvers (signed in, one thread each) posts to the Start view of a published
3-machine, 2-network pivot lab at a random moment within ``--window`` seconds, through Django's
request handler (sessions, CSRF, the view, the start service). The clock of each runs from the
request until its session is ``running`` (the request itself when a parked lab is claimed; the
provisioning task otherwise, run by the embedded task pool of 4 threads as on a single-host
install). Meanwhile a probe requests the catalog page every 100 ms; its p95 is compared with the
same probe on the idle machine just before.

1. **Warm**: the scenario's pool holds ``--players`` parked labs (filled before, untimed).
2. **Cold**: the same burst without a pool.

Prints p50/p95 of request-to-running and the probe's p95 for both, and the ratios. Uses its own
database (``rangex_bench`` unless DATABASE_URL names another) and label namespace.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
os.environ.setdefault("RANGEX_TEST_INSTANCE", f"rxbench-{os.getpid()}")
# Provisioning in a background pool of this process, as the embedded default runs it.
os.environ["RANGEX_EAGER_IN_BACKGROUND"] = "true"

import benchdb  # noqa: E402, F401
import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import close_old_connections  # noqa: E402
from django.test import Client  # noqa: E402
from launch import percentile  # noqa: E402

from apps.accounts.factories import AdminFactory, CreatorFactory, UserFactory  # noqa: E402
from apps.environments import services  # noqa: E402
from apps.environments.factories import ensure_test_image, pivot_version  # noqa: E402
from apps.environments.models import LIVE_STATUSES, EnvironmentPool, EnvironmentSession, ParkStatus  # noqa: E402
from apps.runtime import get_runtime  # noqa: E402
from rangex.core.system import system_settings_update  # noqa: E402


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)  # many sign-ins in a second would meet the login rate limit
    client.rangex_user_id = user.pk
    return client


def probe(stop: threading.Event, times: list[float]) -> None:
    client = Client()
    while not stop.is_set():
        started = time.perf_counter()
        response = client.get("/scenarios/")
        if response.status_code == 200:
            times.append(time.perf_counter() - started)
        stop.wait(0.1)
    close_old_connections()


def idle_probe(seconds: float) -> list[float]:
    times: list[float] = []
    stop = threading.Event()
    thread = threading.Thread(target=probe, args=(stop, times))
    thread.start()
    time.sleep(seconds)
    stop.set()
    thread.join()
    return times


def burst(version, clients: list, window: float) -> tuple[list[float], list[float], int]:
    """Return (request-to-running per player, probe times during the burst, players not running)."""
    url = f"/sessions/start/{version.pk}/"
    results: dict[int, float] = {}
    failed: list[int] = []
    probe_times: list[float] = []
    stop = threading.Event()
    prober = threading.Thread(target=probe, args=(stop, probe_times))
    prober.start()
    t0 = time.perf_counter()

    def player(index: int, client) -> None:
        time.sleep(max(0.0, t0 + random.uniform(0, window) - time.perf_counter()))
        started = time.perf_counter()
        client.post(url)
        user_id = client.rangex_user_id
        deadline = started + 120
        while time.perf_counter() < deadline:
            status = (
                EnvironmentSession.objects.filter(user_id=user_id, scenario_version=version)
                .order_by("-created_at")
                .values_list("status", flat=True)
                .first()
            )
            if status == "running":
                results[index] = time.perf_counter() - started
                break
            if status not in LIVE_STATUSES:
                break
            time.sleep(0.02)
        else:
            pass
        if index not in results:
            failed.append(index)
        close_old_connections()

    threads = [threading.Thread(target=player, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    prober.join()
    return list(results.values()), probe_times, len(failed)


def stop_all(version) -> None:
    """Stop every lab of the burst and wait until the background teardowns removed them."""

    def live():
        return EnvironmentSession.objects.filter(scenario_version=version, status__in=LIVE_STATUSES)

    for session in live():
        services.env_session_stop(session=session, actor=None, reason="benchmark")
    deadline = time.monotonic() + 300
    while live().exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    # The release of the machines runs as a task of its own: make sure nothing is left on the engine.
    runtime = get_runtime()
    for session_id in EnvironmentSession.objects.filter(scenario_version=version).values_list("pk", flat=True):
        runtime.stop(str(session_id))


def fill(pool, count: int) -> float:
    """Queue ``count`` pool launches (the embedded task pool runs them) and wait until all are parked."""
    version = services.pools.pool_version(pool)
    started = time.perf_counter()
    for _ in range(count):
        services.pool_env_create(pool=pool, version=version)
    while pool.environments.filter(status=ParkStatus.PARKED).count() < count:
        if pool.environments.filter(status=ParkStatus.FAILED).exists():
            raise RuntimeError("a pool environment failed to launch")
        time.sleep(0.2)
    return time.perf_counter() - started


def report(label: str, values: list[float], probes: list[float], idle_p95: float, failed: int) -> tuple[float, float]:
    p50, p95 = statistics.median(values), percentile(values, 95)
    probe_p95 = percentile(probes, 95) if probes else float("nan")
    print(
        f"  {label:<10} running {len(values)}, not running {failed}; request->running p50 {p50:.3f}s p95 {p95:.3f}s; "
        f"catalog page p95 {probe_p95 * 1000:.0f} ms ({probe_p95 / idle_p95:.2f} x idle)"
    )
    return p50, p95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--players", type=int, default=50)
    parser.add_argument("--window", type=float, default=10.0)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    ensure_test_image()
    system_settings_update(
        actor=None,
        max_sessions_per_hour=10_000,
        max_sessions_per_day=10_000,
        max_concurrent_users=0,
        max_total_containers=1000,
        docker_max_containers=1000,
    )
    tag = f"{os.getpid()}-{time.time_ns()}"
    version = pivot_version(
        creator=CreatorFactory(email=f"creator-{tag}@bench.rangex.local"),
        admin=AdminFactory(email=f"admin-{tag}@bench.rangex.local"),
    )
    users = [UserFactory(email=f"solver-{n}-{tag}@bench.rangex.local") for n in range(args.players * 2)]
    warm_clients = [signed_in(u) for u in users[: args.players]]
    cold_clients = [signed_in(u) for u in users[args.players :]]

    idle = idle_probe(5)
    idle_p95 = percentile(idle, 95)
    print(f"{args.players} solvers pressing Start within {args.window:.0f} s (3 machines, 2 networks each):")
    print(f"  idle machine: catalog page p95 {idle_p95 * 1000:.0f} ms ({len(idle)} requests)")

    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=args.players)
    took = fill(pool, args.players)
    print(f"  (pool of {args.players} filled in {took:.1f} s, untimed)")
    warm, warm_probes, warm_failed = burst(version, warm_clients, args.window)
    claimed = pool.environments.filter(status=ParkStatus.CLAIMED).count()
    stop_all(version)
    pool.delete()
    print(f"  {claimed} of {args.players} starts claimed a parked lab")

    cold, cold_probes, cold_failed = burst(version, cold_clients, args.window)
    stop_all(version)

    warm_p50, warm_p95 = report("warm pool", warm, warm_probes, idle_p95, warm_failed)
    cold_p50, cold_p95 = report("no pool", cold, cold_probes, idle_p95, cold_failed)
    print(f"  warm / no pool: p50 {warm_p50 / cold_p50:.2f}, p95 {warm_p95 / cold_p95:.2f} (goal: warm p95 < 0.5 s)")


if __name__ == "__main__":
    main()
