"""Chaos bench: launches whose worker is killed at random points, then a Docker engine restart.

    python bench/chaos.py [--launches 6] [--seed 1]

Everything runs on a dockerd of the bench's own (PrivateEngine: its own data root, socket and
network namespace; needs root), so no other lab is touched, in the bench's own database
(``test_<name>`` of DATABASE_URL, default ``rangex_bench``, recreated) and label namespace.

1. Worker crashes: each of ``--launches`` users starts a lab in a forked "worker" process that
   runs the real start and provisioning (session row, lease, DockerRuntime launch) and is
   SIGKILLed after a random delay, so it dies at a random step (before the row, during networks,
   containers, start, readiness, or not at all). The bench then plays beat: every 30 s (the real
   interval) it runs ``env_session_launches_recover``, which retries a launch whose lease went
   stale (or whose holder, a process of this host, is gone), in this process. ``--other-host``
   counts the dead workers as on another host, so their leases must run out first. Lockout: from
   the kill until the user's session leaves ``starting`` (the user's next start is refused while
   it is ``starting``).
2. Engine restart: with every lab running (one of them paused), the engine is restarted; the
   bench runs the lab-machines check (beat: every 30 s) until every lab is back. Time to running
   again is counted from the moment the engine answers again.
3. Leaks: every lab is stopped and torn down; resources left on the engine with this instance's
   label, and sessions left ``starting``, are counted (goal 0 and 0).

Each figure is printed next to the baseline measured before issue 14 (the issue's numbers).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
os.environ["RANGEX_TEST_INSTANCE"] = f"rxchaos-{os.getpid()}"
os.environ["RANGEX_DEFAULT_RUNTIME"] = "chaos"

import benchdb  # noqa: E402, F401  (DATABASE_URL: the bench's own database)
import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402

BEAT_SECONDS = 30
BASELINE = {
    "lockout": "about 1020 s (the 15-minute stuck check)",
    "restart": "never (sessions stayed running with exited machines)",
    "leaks": "0 (after the stuck check)",
}


def worker(user_id, version_id) -> None:
    """A worker process: start the lab and provision it (eager tasks run here), until it is killed."""
    from apps.accounts.models import User
    from apps.environments import services
    from apps.scenarios.models import ScenarioVersion

    services.env_session_start(user=User.objects.get(pk=user_id), version=ScenarioVersion.objects.get(pk=version_id))
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--launches", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=4.0, help="kill each worker within this many seconds")
    parser.add_argument(
        "--other-host",
        action="store_true",
        help="count the workers as on another host: their leases must run out (60 s) before a retry",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    from apps.environments.factories import TEST_IMAGE
    from apps.runtime.tests.helpers import PrivateEngine

    if os.geteuid() != 0:
        sys.exit("bench/chaos.py runs a dockerd of its own: run it as root.")
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    engine = PrivateEngine()
    engine.start()
    try:
        engine.load(TEST_IMAGE)
        settings.RANGEX_RUNTIMES = {
            "chaos": {"BACKEND": "apps.runtime.docker.DockerRuntime", "OPTIONS": {"base_url": engine.url}}
        }
        run(args, rng, engine)
    finally:
        engine.close()


def run(args, rng: random.Random, engine) -> None:
    from apps.accounts.factories import UserFactory
    from apps.environments import services
    from apps.environments.factories import pivot_version
    from apps.environments.models import EnvironmentSession, SessionStatus
    from apps.ops import reconcile, recovery
    from apps.runtime import MachineState, get_runtime

    runtime = get_runtime("chaos")
    version = pivot_version()
    users = [UserFactory() for _ in range(args.launches)]

    # --- 1. workers killed at random points ----------------------------------------------------
    connections.close_all()  # each forked worker opens its own database connection
    context = multiprocessing.get_context("fork")
    killed_at: dict[int, float] = {}
    outcome: dict[int, str] = {}
    processes = []
    for user in users:
        process = context.Process(target=worker, args=(user.pk, version.pk))
        process.start()
        processes.append((user, process, rng.uniform(0.3, args.max_delay)))
    started = time.monotonic()
    for user, process, delay in sorted(processes, key=lambda p: p[2]):
        time.sleep(max(0.0, started + delay - time.monotonic()))
        if process.is_alive():
            os.kill(process.pid, signal.SIGKILL)
            killed_at[user.pk] = time.monotonic()
        process.join()
        if user.pk not in killed_at:
            outcome[user.pk] = "finished before the kill"
    if args.other_host:
        EnvironmentSession.objects.filter(user__in=users).exclude(launch_holder="").update(
            launch_holder="another-host:1"
        )
    # Where each launch was when its worker died (the last progress line it wrote).
    stage = {
        session.user_id: session.progress_message or "queued"
        for session in EnvironmentSession.objects.filter(user__in=users)
    }
    lockout: dict[int, float] = {}
    deadline = time.monotonic() + 600
    next_beat = time.monotonic()
    while time.monotonic() < deadline:
        for user in users:
            if user.pk in lockout or user.pk not in killed_at:
                continue
            session = EnvironmentSession.objects.filter(user=user).order_by("-created_at").first()
            if session is None:
                # Killed before its session row existed: nothing locks the user out.
                lockout[user.pk] = 0.0
                outcome[user.pk] = "killed before the session row"
            elif session.status != SessionStatus.STARTING:
                lockout[user.pk] = time.monotonic() - killed_at[user.pk]
                outcome[user.pk] = (
                    f"killed after '{stage.get(user.pk)}' -> {session.status} after {lockout[user.pk]:.0f} s"
                )
        if all(user.pk in lockout for user in users if user.pk in killed_at):
            break
        if time.monotonic() >= next_beat:
            services.env_session_launches_recover()
            next_beat += BEAT_SECONDS
        time.sleep(0.5)
    for user in users:
        print(f"  user {user.pk}: {outcome.get(user.pk, 'still starting')}")
    longest = max(lockout.values(), default=0.0)

    # Users killed before their row start again, as they would.
    for user in users:
        if not EnvironmentSession.objects.filter(user=user).exists():
            services.env_session_start(user=user, version=version)
    live = list(EnvironmentSession.objects.filter(status=SessionStatus.RUNNING))

    # --- 2. engine restart ---------------------------------------------------------------------
    paused = live[0] if live else None
    if paused is not None:
        services.env_session_pause(session=paused, actor=paused.user)
    engine.restart()
    back = time.monotonic()
    passes = 0
    while True:
        passes += 1
        recovery.lab_machines_check_all()
        wanted = {
            str(s.pk): MachineState.PAUSED if paused is not None and s.pk == paused.pk else MachineState.RUNNING
            for s in live
        }
        if all(set(runtime.status(sid).values()) == {state} for sid, state in wanted.items()):
            break
        if time.monotonic() - back > 300:
            break
        time.sleep(BEAT_SECONDS)
    again = time.monotonic() - back
    failed_after_restart = EnvironmentSession.objects.filter(pk__in=[s.pk for s in live], status="failed").count()

    # --- 3. leaks ----------------------------------------------------------------------------
    for session in EnvironmentSession.objects.filter(status__in=["running", "paused", "starting"]):
        services.env_session_stop(session=session, actor=None, reason="chaos bench done")
    services.env_session_teardown_stale(older_than_minutes=0)
    stuck = EnvironmentSession.objects.filter(status__in=["starting", "stopping"]).count()
    reconcile.orphans_sweep(grace_minutes=0)
    leaks = len(runtime.list_managed())

    print()
    where = "another host (lease runs out)" if args.other_host else "this host (dead pid seen at once)"
    print(f"launches                {args.launches} ({len(killed_at)} workers killed on {where}, seed {args.seed})")
    print(f"longest lockout         {longest:6.1f} s   (goal < 120 s; before: {BASELINE['lockout']})")
    print(
        f"running again after     {again:6.1f} s   (goal < 60 s, plus up to {BEAT_SECONDS} s to the next beat pass; "
        f"{passes} check pass(es), {len(live)} labs, {failed_after_restart} failed; before: {BASELINE['restart']})"
    )
    print(f"leaks                   {leaks:6d}     (resources left on the engine; goal 0; before: {BASELINE['leaks']})")
    print(f"sessions left stuck     {stuck:6d}     (goal 0)")


if __name__ == "__main__":
    main()
