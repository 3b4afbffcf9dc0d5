"""Benchmark the ops reconcilers at scale: a full orphan sweep and the cost accrual.

    python bench/sweep.py [--sessions 5000] [--containers 200]

Uses its own database (``test_<name>`` of DATABASE_URL, recreated on each run) and its own Docker
namespace (RANGEX_INSTANCE=rxbench-<pid>), so it never touches a running instance.

1. Sweep: 5,000 session rows, of which enough are running to own ``--containers`` live
   containers (three machines each); every container is real and labelled as RangeX's.
   Times ``orphans_sweep`` (list the engine, match rows, check for vanished machines) and
   counts its queries; then adds 10 orphans and times the pass that removes them.
2. Accrual: all 5,000 sessions running, one minute since the last accrual; times ``cost_accrue``
   and counts its queries, at 1,000 and at 5,000 sessions, to show the count does not grow.

Targets: sweep under 2 s, accrual under 1 s, query counts independent of the session count.
Rows are bulk-inserted (a benchmark, not a test): going through the services would take minutes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
os.environ["RANGEX_INSTANCE"] = f"rxbench-{os.getpid()}"

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

TEST_IMAGE = "rangex/busybox:latest"


def setup_database() -> None:
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)


def make_rows(n_sessions: int, n_running: int):
    from apps.accounts.factories import UserFactory
    from apps.environments.factories import pivot_version
    from apps.environments.models import EnvironmentMachine, EnvironmentSession, SessionStatus

    version = pivot_version()
    machines = list(version.machines.all())
    users = [UserFactory() for _ in range(50)]
    now = timezone.now()
    sessions = []
    for i in range(n_sessions):
        running = i < n_running
        sessions.append(
            EnvironmentSession(
                user=users[i % len(users)],
                scenario_version=version,
                status=SessionStatus.RUNNING if running else SessionStatus.TERMINATED,
                started_at=now - timedelta(hours=1),
                expires_at=now + timedelta(hours=1),
                ended_at=None if running else now - timedelta(minutes=5),
                last_activity_at=now,
                cost_accrued_until=now - timedelta(minutes=1),
                env_profile="micro",
            )
        )
    EnvironmentSession.objects.bulk_create(sessions, batch_size=1000)
    EnvironmentMachine.objects.bulk_create(
        [
            EnvironmentMachine(environment_session=s, machine=m, machine_name=m.name, role=m.role, status="running")
            for s in sessions
            for m in machines
        ],
        batch_size=2000,
    )
    return sessions, machines


def start_containers(runtime, pairs) -> list[str]:
    """Start one sleeping, labelled container per (session id, machine name); no networks needed."""

    def run(pair):
        session_id, machine = pair
        container = runtime.client.containers.run(
            TEST_IMAGE,
            ["sleep", "900"],
            detach=True,
            network_mode="none",
            name=f"rx-{runtime.instance}-{uuid.uuid4().hex[:10]}",
            labels={
                "rangex.instance": runtime.instance,
                "rangex.managed": "1",
                "rangex.session": session_id,
                "rangex.machine": machine,
            },
        )
        return container.id

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(run, pairs))


def timed(label: str, fn, *, repeat: int = 3):
    best, queries, result = None, None, None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - started
        best = elapsed if best is None else min(best, elapsed)
        queries = len(ctx.captured_queries)
    print(f"{label:<55} {best * 1000:8.1f} ms  {queries:4d} queries")
    return best, queries, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--containers", type=int, default=200)
    args = parser.parse_args()

    setup_database()
    from apps.environments.models import EnvironmentSession, SessionStatus
    from apps.ops import costs, reconcile
    from apps.runtime import get_runtime

    runtime = get_runtime()
    n_running = -(-args.containers // 3)
    sessions, machines = make_rows(args.sessions, n_running)
    pairs = [(str(s.pk), m.name) for s in sessions[:n_running] for m in machines][: args.containers]
    print(f"{args.sessions} session rows, {n_running} running; starting {len(pairs)} containers...")
    ids = start_containers(runtime, pairs)
    try:
        later = timezone.now() + timedelta(minutes=30)
        sweep_time, _, result = timed(
            f"sweep: {args.sessions} rows, {len(ids)} live containers", lambda: reconcile.orphans_sweep(now=later)
        )
        assert result.orphans_found == 0 and result.sessions_failed == 0, result.as_dict()
        orphan_pairs = [(str(s.pk), "attacker") for s in sessions[n_running : n_running + 10]]
        ids += start_containers(runtime, orphan_pairs)
        timed(
            "sweep removing 10 orphans (engine removals included)",
            lambda: reconcile.orphans_sweep(now=later),
            repeat=1,
        )

        results = {}
        for n in (1000, args.sessions):
            EnvironmentSession.objects.update(status=SessionStatus.TERMINATED)
            subset = [s.pk for s in sessions[:n]]
            EnvironmentSession.objects.filter(pk__in=subset).update(
                status=SessionStatus.RUNNING, cost_accrued_until=timezone.now() - timedelta(minutes=1)
            )
            # No user has a budget limit, so only the accrual itself is measured.
            results[n] = timed(f"accrual: {n} running sessions", costs.cost_accrue, repeat=1)
        accrual_time, accrual_queries, _ = results[args.sessions]
        print()
        print(f"sweep   {sweep_time:.3f} s (target < 2 s)  {'OK' if sweep_time < 2 else 'SLOW'}")
        print(f"accrual {accrual_time:.3f} s (target < 1 s)  {'OK' if accrual_time < 1 else 'SLOW'}")
        print(f"accrual queries at 1000 vs {args.sessions}: {results[1000][1]} vs {accrual_queries}")
    finally:
        with ThreadPoolExecutor(max_workers=16) as pool:
            list(pool.map(lambda cid: runtime.remove_resource("container", cid), ids))


if __name__ == "__main__":
    main()
