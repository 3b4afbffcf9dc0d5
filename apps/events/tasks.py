"""Celery tasks of events: each takes an id and calls one service."""

from celery import shared_task

from apps.events import services


@shared_task(ignore_result=True)
def scoreboard_push_task(event_id: str, frozen_too: bool = True) -> None:
    services.scoreboard_push(event_id=event_id, frozen_too=frozen_too)


@shared_task(ignore_result=True, acks_late=True)
def events_award_finished_task() -> None:
    services.events_award_finished()


@shared_task(ignore_result=True, acks_late=True)
def event_labs_follow_task() -> None:
    services.event_labs_follow()
