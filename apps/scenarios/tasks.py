"""Celery tasks of scenarios: take ids, call a service."""

from celery import shared_task

from apps.scenarios.imports import bundle_import_job_run


@shared_task
def scenario_bundle_import(*, job_id: str) -> None:
    bundle_import_job_run(job_id=job_id)
