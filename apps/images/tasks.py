"""Celery tasks of the images app: take ids, call a service."""

from celery import shared_task

from apps.images import pipeline


@shared_task(acks_late=True)
def image_pipeline_build(*, stage_id: int) -> None:
    pipeline.image_pipeline_build(stage_id=stage_id)


@shared_task(acks_late=True)
def image_pipeline_deploy(*, stage_id: int) -> None:
    pipeline.image_pipeline_deploy(stage_id=stage_id)
