"""Benchmark a whole lab start through RangeX against the docker CLI, side by side in one run.

    python bench/session.py [--runs 10]

RangeX side: ``env_session_start`` for a published 3-machine, 2-network pivot version (the
service writes the session, provisioning runs on commit), then a WebSocket terminal through the
real ASGI application until the shell answers; once cold (no pool) and once warm (a parked
environment of the scenario's warm pool is claimed; the pool is filled between runs, untimed).
Baseline: the same networks and containers made by the sequence of ``docker`` commands a shell
script would run (bench/launch.py), then ``docker exec`` of a shell that answers. Every clock
stops when a terminal answers. Prints p50 and p95 of each and the ratios (below 1 is faster).
Uses its own database, ``rangex_bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
os.environ.setdefault("RANGEX_TEST_INSTANCE", f"rxbench-{os.getpid()}")

import benchdb  # noqa: E402, F401  (DATABASE_URL: the bench's own database, created when missing)
import django  # noqa: E402

django.setup()

from channels.testing import WebsocketCommunicator  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from launch import cli_launch, cli_stop, percentile  # noqa: E402

from apps.accounts.factories import PASSWORD, AdminFactory, CreatorFactory, UserFactory  # noqa: E402
from apps.environments import services  # noqa: E402
from apps.environments.factories import ensure_test_image, pivot_version  # noqa: E402
from apps.environments.models import EnvironmentPool  # noqa: E402
from apps.runtime import get_runtime  # noqa: E402
from rangex.asgi import application  # noqa: E402
from rangex.core.system import system_settings_update  # noqa: E402


async def _terminal_answers(session, cookie: str) -> None:
    path = f"/ws/sessions/{session.pk}/terminal/attacker/?token={session.gateway_session_token}"
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver"), (b"cookie", f"sessionid={cookie}".encode())]
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=30)
    if not connected:
        raise RuntimeError(f"terminal refused with {code}")
    await comm.send_to(text_data=json.dumps({"type": "input", "data": "echo READY-$((6*7))\n"}))
    seen = b""
    while b"READY-42" not in seen:
        message = await comm.receive_output(timeout=30)
        seen += message.get("bytes") or b""
    await comm.disconnect()


def rangex_start(user, version, cookie: str) -> float:
    started = time.perf_counter()
    session = services.env_session_start(user=user, version=version)
    session.refresh_from_db()
    if session.status != "running":
        raise RuntimeError(f"session {session.pk} is {session.status}: {session.reason_stopped}")
    asyncio.run(_terminal_answers(session, cookie))
    elapsed = time.perf_counter() - started
    services.env_session_stop(session=session, actor=None, reason="benchmark")
    get_runtime().stop(str(session.pk))
    return elapsed


def fill_pool(pool) -> None:
    """Park one environment of the pool's version (untimed: a pool fills ahead of any click)."""
    version = services.pools.pool_version(pool)
    env = services.pool_env_create(pool=pool, version=version)
    services.pool_env_launch(env_id=env.pk)  # in this process (tasks run eagerly, inline, here)


def cli_start(prefix: str, image: str) -> float:
    started = time.perf_counter()
    cli_launch(prefix, image)
    out = subprocess.run(
        ["docker", "exec", f"{prefix}-attacker", "sh", "-c", "echo READY-$((6*7))"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert b"READY-42" in out
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    ensure_test_image()
    system_settings_update(actor=None, max_sessions_per_hour=10_000, max_sessions_per_day=10_000)
    # The bench database outlives a run, so every account gets a fresh address.
    tag = f"{os.getpid()}-{time.time_ns()}"
    version = pivot_version(
        creator=CreatorFactory(email=f"creator-{tag}@bench.rangex.local"),
        admin=AdminFactory(email=f"admin-{tag}@bench.rangex.local"),
    )
    user = UserFactory(email=f"solver-{tag}@bench.rangex.local")
    client = Client()
    client.post("/accounts/login/", {"email": user.email, "password": PASSWORD})
    cookie = client.cookies["sessionid"].value

    pool = EnvironmentPool.objects.create(scenario=version.scenario, min_ready=0, max_size=1, is_enabled=True)
    cold, warm, theirs = [], [], []
    print(f"Lab start to a terminal answering, {args.runs} runs (3 machines, 2 networks, 1 flag file):")
    for index in range(args.runs):
        pool.is_enabled = False
        pool.save(update_fields=["is_enabled"])
        cold.append(rangex_start(user, version, cookie))
        pool.is_enabled = True
        pool.save(update_fields=["is_enabled"])
        fill_pool(pool)
        warm.append(rangex_start(user, version, cookie))
        prefix = f"rxbench-cli-{os.getpid()}-{index}"
        try:
            theirs.append(cli_start(prefix, "rangex/busybox:latest"))
        finally:
            cli_stop(prefix)
        print(
            f"  run {index + 1}/{args.runs}: RangeX cold {cold[-1]:.3f}s, warm {warm[-1]:.3f}s, "
            f"docker CLI {theirs[-1]:.3f}s",
            flush=True,
        )
    pool.delete()
    cli_p50, cli_p95 = statistics.median(theirs), percentile(theirs, 95)
    print(f"  docker CLI sequence + docker exec      p50 {cli_p50:.3f}s  p95 {cli_p95:.3f}s")
    for label, values in (("RangeX cold (service + terminal)", cold), ("RangeX warm claim (pool)", warm)):
        p50, p95 = statistics.median(values), percentile(values, 95)
        ratios = f"ratio to CLI p50 {p50 / cli_p50:.2f}  p95 {p95 / cli_p95:.2f}"
        print(f"  {label:<38} p50 {p50:.3f}s  p95 {p95:.3f}s  {ratios}")
    print(f"  warm / cold p50 {statistics.median(warm) / statistics.median(cold):.2f} (goal: warm <= 0.1 x CLI)")

if __name__ == "__main__":
    main()
