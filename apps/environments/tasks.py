"""Celery tasks of environments: each takes an id and calls one idempotent service."""

from celery import shared_task

from apps.environments import services

# A removal that fails (the engine busy, a worker killed) is tried again with backoff: it is idempotent.
RETRIED = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "max_retries": 5,
}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def env_session_provision_task(session_id: str) -> None:
    services.env_session_provision(session_id=session_id)


@shared_task(**RETRIED)
def env_session_teardown_task(session_id: str) -> None:
    services.env_session_teardown(session_id=session_id)


@shared_task(**RETRIED)
def env_runtime_release_task(session_id: str, runtime_key: str | None = None) -> None:
    services.env_runtime_release(session_id=session_id, runtime_key=runtime_key)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def env_session_machine_reset_task(session_id: str, machine: str) -> None:
    services.env_session_machine_reset_run(session_id=session_id, machine=machine)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def pool_env_launch_task(env_id: str) -> None:
    services.pool_env_launch(env_id=env_id)


@shared_task(**RETRIED)
def pool_env_remove_task(env_id: str) -> None:
    services.pool_env_remove(env_id=env_id)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def version_test_deploy_task(run_id: str) -> None:
    """Run one test deployment (claims it first, so a redelivered task does nothing)."""
    from apps.environments.services.testdeploy import version_test_deploy_run

    version_test_deploy_run(run_id=run_id)
