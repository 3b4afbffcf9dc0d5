"""Benchmark the event scoreboard against a naive recompute, side by side in one run.

    python bench/scoreboard.py \
        [--participants 10000] [--solves 100000] [--runs 200] [--clients 200]

Seeds one event with ``--participants`` participants and ``--solves`` solves (bulk inserts: this
is load, not behaviour under test), then measures:

1. solve-and-rank: ``event_submit_answer`` (grade, solve row, hash chain, total, incremental rank
   update, audit, cache bump and push on commit) against a naive solve (insert the solve, then a
   SUM/GROUP BY over every solve and a full re-rank of every participant);
2. scoreboard JSON: GET ``/events/<id>/scoreboard.json`` through Django (cached between solves)
   against building the same feed with the naive SUM/GROUP BY on every request;
3. push fan-out: one solve's new board to ``--clients`` open WebSocket pages (in-process consumers
   on the Redis channel layer), from the publish call until the last page has it.

Prints p50/p95 of each and the ratio naive / RangeX. It runs in its own database (`rangex_bench`
unless DATABASE_URL names another, created when missing); the data it made is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings_test")
# As in the embedded deployment: eager tasks (the scoreboard push) run on a background thread.
os.environ.setdefault("RANGEX_EAGER_IN_BACKGROUND", "true")

import benchdb  # noqa: F401  (DATABASE_URL: the bench's own database, created when missing)
import django

django.setup()
logging.getLogger("celery.app.trace").setLevel(logging.WARNING)  # one line per eager push otherwise

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.events import selectors, services  # noqa: E402
from apps.events.models import Event, EventParticipation, EventScenario, EventSolve  # noqa: E402

QUESTIONS_PER_VERSION = 5
VERSIONS = 4


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))]


def ms(values: list[float]) -> str:
    return f"p50 {percentile(values, 50) * 1000:8.2f} ms   p95 {percentile(values, 95) * 1000:8.2f} ms"


def make_versions(tag: str):
    from apps.accounts.factories import AdminFactory, CreatorFactory
    from apps.scenarios.factories import published_version

    questions = [
        {
            "id": f"q{i}",
            "type": "flag",
            "prompt": f"Flag {i}?",
            "points": 100,
            "max_attempts": None,
            "answer": f"RX{{{i}}}",
            "match": "exact",
        }
        for i in range(QUESTIONS_PER_VERSION)
    ]
    admin = AdminFactory(email=f"bench-admin-{tag}@bench.test")
    creator = CreatorFactory(email=f"bench-creator-{tag}@bench.test")
    return admin, [
        published_version(
            creator=creator,
            admin=admin,
            machines=[],
            requires_machines=False,
            questions=questions,
            hints=[],
            slug=f"bench-{tag}-{n}",
            title=f"Bench {n}",
        )
        for n in range(VERSIONS)
    ]


def seed(participants: int, solves: int, tag: str):
    admin, versions = make_versions(tag)
    now = timezone.now()
    event = services.event_save(
        event=Event(
            name=f"Bench {tag}",
            start_date=now - timedelta(hours=3),
            end_date=now + timedelta(hours=3),
            registration_required=True,
        ),
        actor=admin,
    )
    for order, version in enumerate(versions):
        EventScenario.objects.create(event=event, scenario_version=version, sort_order=order)
    users = [
        User(id=uuid.uuid4(), email=f"bench-{tag}-{i}@bench.test", display_name=f"Player {i}", password="!")  # noqa: S106 (an unusable password)
        for i in range(participants)
    ]
    User.objects.bulk_create(users, batch_size=2000)
    rows = [EventParticipation(event=event, user=u, participant_type="user", registered_at=now) for u in users]
    EventParticipation.objects.bulk_create(rows, batch_size=2000)
    rows = list(EventParticipation.objects.filter(event=event).order_by("id"))
    slots = [(v, f"q{i}") for v in versions for i in range(QUESTIONS_PER_VERSION)]
    rng = random.Random(7)
    start = now - timedelta(hours=2)
    taken: set[tuple[int, int]] = set()
    batch = []
    while len(taken) < solves:
        p = rng.randrange(len(rows))
        s = rng.randrange(len(slots))
        if (p, s) in taken:
            continue
        taken.add((p, s))
        version, question = slots[s]
        batch.append(
            EventSolve(
                event=event,
                participation=rows[p],
                scenario_version=version,
                question_id=question,
                points=100,
                created_at=start + timedelta(milliseconds=rng.randrange(3_600_000)),
            )
        )
        if len(batch) >= 5000:
            EventSolve.objects.bulk_create(batch)
            batch = []
    EventSolve.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE event_participation p JOIN (
                   SELECT participation_id, SUM(points) t, MAX(created_at) m, COUNT(*) c FROM event_solve
                   WHERE event_id = %s GROUP BY participation_id) s ON s.participation_id = p.id
               SET p.total_points = s.t, p.last_solve_at = s.m""",
            [event.pk.hex],
        )
    services.rank_recompute(event=event)
    open_slots = {}
    for p_index, row in enumerate(rows):
        free = [s for s in range(len(slots)) if (p_index, s) not in taken]
        if free:
            open_slots[row] = free
    return admin, event, versions, slots, users, open_slots


NAIVE_BOARD = """
SELECT p.id, u.display_name, COALESCE(SUM(s.points), 0) AS total, MAX(s.created_at) AS last
FROM event_participation p JOIN `user` u ON u.id = p.user_id
LEFT JOIN event_solve s ON s.participation_id = p.id
WHERE p.event_id = %s AND p.disqualified = 0
GROUP BY p.id, u.display_name
ORDER BY total DESC, last ASC
"""


def naive_board(event) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(NAIVE_BOARD, [event.pk.hex])
        standings = [
            {"pos": i, "team": name, "score": int(total), "lastAccept": int(last.timestamp()) if last else None}
            for i, (_, name, total, last) in enumerate(cursor.fetchall(), start=1)
        ]
    return json.dumps({"standings": standings}).encode()


def naive_solve(event, participation, version, question) -> None:
    with transaction.atomic():
        EventSolve.objects.create(
            event=event, participation=participation, scenario_version=version, question_id=question, points=100
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """UPDATE event_participation p JOIN (
                       SELECT x.id, RANK() OVER (ORDER BY x.t DESC, x.m ASC) r FROM (
                           SELECT p2.id, COALESCE(SUM(s.points), 0) t, MAX(s.created_at) m
                           FROM event_participation p2 LEFT JOIN event_solve s ON s.participation_id = p2.id
                           WHERE p2.event_id = %s GROUP BY p2.id) x) ranked ON ranked.id = p.id
                   SET p.`rank` = ranked.r""",
                [event.pk.hex],
            )


def bench_solves(event, slots, open_slots, runs: int, settle: float):
    rng = random.Random(11)
    candidates = [(p, free) for p, free in open_slots.items() if len(free) >= 2]
    rng.shuffle(candidates)
    ours, naive = [], []
    for i in range(runs):
        participation, free = candidates[i % len(candidates)]
        version, question = slots[free.pop()]
        user = User.objects.get(pk=participation.user_id)
        time.sleep(settle)
        t0 = time.perf_counter()
        services.event_submit_answer(
            event=event, user=user, version_id=version.pk, question_id=question, answer=f"RX{{{question[1:]}}}"
        )
        ours.append(time.perf_counter() - t0)
        version, question = slots[free.pop()]
        time.sleep(settle)
        t0 = time.perf_counter()
        naive_solve(event, participation, version, question)
        naive.append(time.perf_counter() - t0)
    return ours, naive


def bench_json(event, runs: int):
    client = Client()
    url = f"/events/{event.pk}/scoreboard.json"
    services.scoreboard_publish(event_id=event.pk)
    t0 = time.perf_counter()
    response = client.get(url)
    cold = time.perf_counter() - t0
    assert response.status_code == 200, response.status_code
    rows = len(response.json()["standings"])
    ours, naive = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        client.get(url).content  # noqa: B018
        ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        naive_board(event)
        naive.append(time.perf_counter() - t0)
    return cold, rows, ours, naive


def publish_now(event_id) -> None:
    """What the push task does after a solve: drop the cached board, build it once, send it."""
    selectors.scoreboard_invalidate(event_id=event_id)
    services.scoreboard_push(event_id=event_id)


async def bench_push(event, clients: int, rounds: int):
    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer
    from channels.testing import WebsocketCommunicator

    from rangex.asgi import application

    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    pages = []
    for _ in range(clients):
        page = WebsocketCommunicator(application, f"/ws/events/{event.pk}/scoreboard/", headers=headers)
        connected, _ = await page.connect(timeout=30)
        assert connected
        await page.receive_json_from(timeout=30)
        pages.append(page)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await sync_to_async(publish_now)(event.pk)
        await asyncio.gather(*(page.receive_json_from(timeout=10) for page in pages))
        times.append(time.perf_counter() - t0)
    for page in pages:
        await page.disconnect()
    layer = get_channel_layer()
    if hasattr(layer, "close_pools"):
        await layer.close_pools()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--solves", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.2,
        help="seconds to wait before each timed solve, so neither inherits the other's background "
        "database work (the naive re-rank leaves 10,000 row versions for InnoDB to purge)",
    )
    args = parser.parse_args()
    if args.solves > args.participants * VERSIONS * QUESTIONS_PER_VERSION * 0.8:
        parser.error("too many solves for the participants: each can solve 20 questions once")

    call_command("migrate", verbosity=0)
    tag = uuid.uuid4().hex[:8]
    name = settings.DATABASES["default"]["NAME"]
    print(f"database {name}; seeding {args.participants} participants, {args.solves} solves")
    t0 = time.perf_counter()
    _admin, event, _versions, slots, _users, open_slots = seed(args.participants, args.solves, tag)
    print(f"seeded in {time.perf_counter() - t0:.1f} s\n")
    try:
        ours, naive = bench_solves(event, slots, open_slots, args.runs, args.settle)
        print(f"solve + rank   RangeX {ms(ours)}")
        ratio = statistics.median(naive) / statistics.median(ours)
        print(f"               naive  {ms(naive)}   naive/RangeX p50 = {ratio:.1f}x")

        cold, rows, ours, naive = bench_json(event, args.runs)
        print(f"\nscoreboard.json ({rows} rows; first request after a solve builds it: {cold * 1000:.1f} ms)")
        print(f"               RangeX {ms(ours)}")
        ratio = statistics.median(naive) / statistics.median(ours)
        print(f"               naive  {ms(naive)}   naive/RangeX p50 = {ratio:.1f}x")

        times = asyncio.run(bench_push(event, args.clients, rounds=10))
        naive_fanout = statistics.median(naive) * args.clients
        print(f"\npush to {args.clients} pages  RangeX {ms(times)}")
        print(
            f"               naive: {args.clients} polling pages each recomputing = "
            f"{naive_fanout * 1000:.0f} ms of DB work per refresh; naive/RangeX p50 = "
            f"{naive_fanout / statistics.median(times):.1f}x"
        )
    finally:
        Event.objects.filter(pk=event.pk).delete()
        User.objects.filter(email__startswith=f"bench-{tag}-").delete()


if __name__ == "__main__":
    main()
