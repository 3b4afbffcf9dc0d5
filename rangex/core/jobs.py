"""Durable records of long operations (``job``), shown as progress to whoever waits for them."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from rangex.core.models import Job
from rangex.core.selectors import get_one


def job_create(*, type: str, user=None, payload: dict[str, Any] | None = None) -> Job:
    return Job.objects.create(type=type, user=user, payload=payload or {})


def job_start(*, job_id) -> Job:
    """Mark a job running and count the attempt; a retried task calls this again."""
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.RUNNING, attempts=models.F("attempts") + 1, started_at=now, updated_at=now
    )
    return Job.objects.get(pk=job_id)


def job_progress(*, job_id, progress: int, message: str = "") -> None:
    """Record progress (0-100). A finished job is left alone."""
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        progress=max(0, min(100, int(progress))), progress_message=message[:255], updated_at=timezone.now()
    )


def job_succeed(*, job_id, result: Any = None, message: str = "Done") -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.SUCCEEDED,
        progress=100,
        progress_message=message[:255],
        result=result,
        error=None,
        completed_at=now,
        updated_at=now,
    )


def job_fail(*, job_id, error: str) -> None:
    now = timezone.now()
    Job.objects.filter(pk=job_id).update(
        status=Job.Status.FAILED, error=error[:10000], completed_at=now, updated_at=now
    )


def job_get_for_user(*, user, pk) -> Job:
    """Return a job its owner (or staff) may watch."""
    qs = Job.objects.all() if user.is_staff else Job.objects.filter(user=user)
    return get_one(qs, _("No such job."), pk=pk)
