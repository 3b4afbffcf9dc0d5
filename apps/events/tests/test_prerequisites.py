"""Imported CTFd rules inside events: challenges locked until their requirements are solved; per-question decay."""

from __future__ import annotations

import pytest

from apps.accounts.factories import UserFactory
from apps.events import services
from apps.events.factories import make_event
from apps.events.prerequisites import event_prerequisites_missing
from apps.scenarios.factories import published_version
from rangex.core.errors import Conflict

pytestmark = pytest.mark.django_db

FLAG = {"id": "flag", "type": "flag", "prompt": "Flag?", "points": 100, "max_attempts": None}


def challenge(title, *, flag, requires=(), scoring=None):
    question = dict(FLAG, flags=[{"type": "static", "content": flag, "case_insensitive": False}])
    if scoring:
        question.update(scoring=scoring, points=scoring["initial"])
    metadata = {"requirements": {"prerequisites": list(requires), "anonymize": False}} if requires else {}
    return published_version(
        title=title, machines=[], requires_machines=False, questions=[question], hints=[], metadata=metadata
    )


def test_a_challenge_is_locked_until_its_requirement_is_solved_in_the_event(client):
    warmup = challenge("Warmup", flag="flag{warm}")
    second = challenge("Second", flag="flag{second}", requires=[warmup.scenario.slug])
    event = make_event(versions=[warmup, second], allow_late_registration=True)
    user = UserFactory()
    participation = services.event_register(event=event, user=user)
    assert [p.title for p in event_prerequisites_missing(event=event, participation=participation, version=second)] == [
        "Warmup"
    ]
    with pytest.raises(Conflict, match="locked until you solve Warmup"):
        services.event_submit_answer(event=event, user=user, version_id=second.pk, question_id="flag", answer="x")
    client.force_login(user)
    page = client.get(f"/events/{event.pk}/challenges/").content.decode()
    assert "Locked until you solve Warmup" in page
    assert services.event_submit_answer(
        event=event, user=user, version_id=warmup.pk, question_id="flag", answer="flag{warm}"
    )["correct"]
    result = services.event_submit_answer(
        event=event, user=user, version_id=second.pk, question_id="flag", answer="flag{second}"
    )
    assert result["correct"]


def test_a_requirement_outside_the_event_does_not_lock():
    elsewhere = challenge("Elsewhere", flag="flag{e}")
    second = challenge("Second", flag="flag{second}", requires=[elsewhere.scenario.slug, "never-published"])
    event = make_event(versions=[second], allow_late_registration=True)
    user = UserFactory()
    services.event_register(event=event, user=user)
    assert services.event_submit_answer(
        event=event, user=user, version_id=second.pk, question_id="flag", answer="flag{second}"
    )["correct"]


def test_a_question_with_its_own_dynamic_scoring_decays_as_ctfd_computes_it():
    scoring = {"function": "linear", "initial": 500, "decay": 40, "minimum": 100}
    falling = challenge("Falling", flag="flag{f}", scoring=scoring)
    event = make_event(versions=[falling], allow_late_registration=True)
    points = []
    for _ in range(3):
        user = UserFactory()
        services.event_register(event=event, user=user)
        points.append(
            services.event_submit_answer(
                event=event, user=user, version_id=falling.pk, question_id="flag", answer="flag{f}"
            )["points"]
        )
    assert points == [500, 460, 420]
