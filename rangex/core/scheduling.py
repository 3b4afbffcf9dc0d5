"""Queue Celery tasks after the current transaction commits.

Services schedule tasks by name and never import a tasks module: tasks import services, so the
arrow runs one way (HackSoft's rule). Every app imports its own tasks module in ``ready()``, so
every name is registered before the first request; an unknown name fails at once.

In production the task goes to the broker. In the embedded default there is no worker,
so Celery runs tasks eagerly; then a request must not wait for a slow task, and the
task runs on a background thread of this process instead (``RANGEX_EAGER_IN_BACKGROUND``).
Tests keep eager tasks synchronous so they can assert what a task did.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="rangex-task")
        return _executor


def _run_in_background(task, args, kwargs):
    def run():
        close_old_connections()
        try:
            task.apply(args=args, kwargs=kwargs, throw=False)
        except Exception:
            logger.exception("background task %s failed", task.name)
        finally:
            close_old_connections()

    # The task carries the context it was queued in (the request id of its log lines).
    _background_executor().submit(contextvars.copy_context().run, run)


def task_named(name: str):
    """Return the registered Celery task called ``name``; KeyError names a missing one."""
    from celery import current_app

    try:
        return current_app.tasks[name]
    except KeyError:
        raise KeyError(f"No Celery task is registered as {name!r}.") from None


def send_now(name: str, *args, **kwargs) -> None:
    """Send the task called ``name`` at once (no transaction to wait for)."""
    task = task_named(name)
    if settings.CELERY_TASK_ALWAYS_EAGER and settings.RANGEX_EAGER_IN_BACKGROUND:
        _run_in_background(task, args, kwargs)
    else:
        task.apply_async(args=args, kwargs=kwargs)


def enqueue(name: str, *args, **kwargs) -> None:
    """Send the task called ``name`` when the surrounding transaction commits (at once outside one)."""
    task_named(name)  # a misspelt name fails here, inside the service, not silently after commit
    transaction.on_commit(lambda: send_now(name, *args, **kwargs), robust=True)
