"""Solves and registrations racing in one event: the event row lock keeps first blood, caps and ranks right."""

import threading

import pytest
from django.db import connection

from apps.accounts.factories import UserFactory
from apps.events import services
from apps.events.factories import make_event, version_of
from apps.events.models import EventParticipation, EventSolve
from rangex.core.errors import LimitExceeded

pytestmark = pytest.mark.django_db(transaction=True)


def _race(work, items):
    barrier = threading.Barrier(len(items))
    results = []

    def run(item):
        try:
            barrier.wait()
            results.append(work(item))
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_simultaneous_solves_give_one_first_blood_and_consistent_ranks():
    event = make_event(first_blood_bonus=50, allow_late_registration=True)
    users = [UserFactory() for _ in range(6)]
    for user in users:
        services.event_register(event=event, user=user)
    version = version_of(event)
    results = _race(
        lambda user: services.event_submit_answer(
            event=event, user=user, version_id=version.pk, question_id="q1", answer="RX{one}"
        ),
        users,
    )
    assert all(isinstance(r, dict) and r["correct"] for r in results), results
    assert EventSolve.objects.filter(event=event, first_blood=True).count() == 1
    assert sorted(r["points"] for r in results) == [100] * 5 + [150]
    ranks = dict(EventParticipation.objects.filter(event=event).values_list("id", "rank"))
    services.rank_recompute(event=event)
    assert dict(EventParticipation.objects.filter(event=event).values_list("id", "rank")) == ranks
    assert sorted(ranks.values()) == [1, 2, 3, 4, 5, 6]


def test_simultaneous_registrations_respect_max_participants():
    event = make_event(live=False, max_participants=3)
    users = [UserFactory() for _ in range(6)]
    results = _race(lambda user: services.event_register(event=event, user=user), users)
    assert sum(isinstance(r, LimitExceeded) for r in results) == 3
    assert EventParticipation.objects.filter(event=event).count() == 3
