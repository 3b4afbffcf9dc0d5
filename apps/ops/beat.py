"""The periodic schedule, declared once and seeded into django-celery-beat.

``beat_sync()`` (run by the data migration and by ``manage.py sync_beat``) creates missing
entries and never overwrites an interval an admin changed in the admin afterwards, unless
``reset=True``.
"""

from __future__ import annotations

# name -> (task, every N seconds)
SCHEDULE: dict[str, tuple[str, int]] = {
    "ops: expire sessions": ("apps.ops.tasks.sessions_expire_task", 60),
    "ops: stop idle sessions": ("apps.ops.tasks.sessions_stop_idle_task", 60),
    "ops: accrue cost": ("apps.ops.tasks.cost_accrue_task", 60),
    "ops: daily usage rollup": ("apps.ops.tasks.usage_rollup_task", 15 * 60),
    "ops: scenario budgets": ("apps.ops.tasks.scenario_budgets_task", 5 * 60),
    "ops: global budget cap": ("apps.ops.tasks.budget_cap_task", 5 * 60),
    "ops: orphan sweep": ("apps.ops.tasks.orphans_sweep_task", 5 * 60),
    # Labs whose machines stopped (an engine restart) run again, or are failed, within about 30 s.
    "ops: lab machines": ("apps.ops.tasks.lab_machines_task", 30),
    # A launch whose worker died is retried (or failed) within about LEASE_SECONDS + 30 s.
    "ops: interrupted launches": ("apps.ops.tasks.launches_recover_task", 30),
    # Warm pools: drained, healed, trimmed and filled to their targets within the budget.
    "ops: warm pools": ("apps.ops.tasks.pools_task", 30),
    "ops: health checks": ("apps.ops.tasks.health_check_task", 5 * 60),
    "ops: retention": ("apps.ops.tasks.retention_task", 24 * 60 * 60),
    # Event badges (top N) are decided once an event has ended; the task looks back two hours.
    "ops: badges of finished events": ("apps.events.tasks.events_award_finished_task", 30 * 60),
    # Event labs: a warning ten minutes before the event ends, and a stop at the end.
    "ops: event labs follow the event": ("apps.events.tasks.event_labs_follow_task", 60),
}


def beat_sync(*, reset: bool = False, interval_model=None, task_model=None) -> dict[str, int]:
    """Create (or with ``reset`` restore) every scheduled entry; return counts of created and updated."""
    if interval_model is None or task_model is None:
        from django_celery_beat.models import IntervalSchedule, PeriodicTask

        interval_model, task_model = IntervalSchedule, PeriodicTask
    created = updated = 0
    for name, (task, seconds) in SCHEDULE.items():
        interval, _ = interval_model.objects.get_or_create(every=seconds, period="seconds")
        entry = task_model.objects.filter(name=name).first()
        if entry is None:
            task_model.objects.create(name=name, task=task, interval=interval, enabled=True)
            created += 1
        elif reset or entry.task != task:
            entry.task, entry.interval, entry.enabled = task, interval, True
            entry.save()
            updated += 1
    return {"created": created, "updated": updated}
