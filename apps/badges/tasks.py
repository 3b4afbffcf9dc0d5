"""Celery tasks of badges: each takes an id and calls one service."""

from celery import shared_task

from apps.badges import awards


@shared_task(ignore_result=True, acks_late=True)
def event_badges_reconcile_task(event_id: str) -> None:
    from apps.events.models import Event

    event = Event.objects.filter(pk=event_id).first()
    if event is not None:
        awards.event_badges_reconcile(event=event)
