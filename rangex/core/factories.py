"""Factories for the kernel's tables: jobs and free-form settings, made through the kernel services."""

from __future__ import annotations

from typing import Any

from rangex.core.jobs import job_create
from rangex.core.models import Job, SystemSetting
from rangex.core.system import system_setting_set


def job(*, type: str = "test_job", user=None, payload: dict[str, Any] | None = None) -> Job:
    return job_create(type=type, user=user, payload=payload or {})


def system_setting(*, key: str = "test.key", value: str = "value", actor=None) -> SystemSetting:
    return system_setting_set(actor=actor, key=key, value=value)
