"""Test deployments: launch a version as an ``is_test`` session, run its validation rules, record, tear down.

``apps.scenarios.testing.version_test_deploy_request`` records a pending ``ScenarioVersionTestRun``
(or returns the one already pending or running for the version) and queues ``version_test_deploy_run``,
which a Celery task runs:

1. start an ``is_test`` session of the initiating admin (not counted against limits or budget),
   provision it, and wait until it is running (``docker_test_timeout_minutes`` caps the whole run);
2. record each machine's outcome (``DockerTest``) and the environment (``TestDeployment``);
3. run every rule (``apps.environments.services.rules``);
4. record the run (status, duration, per-rule results with output tails), an admin-test row with
   one ``AdminTestValidation`` result per rule, point ``scenario_version.last_admin_test`` at it;
5. tear the session down unless the run keeps it (``--keep``: an admin looks around through the
   normal terminal and stops it from the session page).

Progress goes live to the group ``testrun-<id>`` (``TestRunConsumer``).
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.environments.models import EnvironmentSession, SessionStatus, TestDeployment
from apps.environments.services.costs import cost_rate_rm
from apps.environments.services.rules import run_rule
from apps.scenarios.models import (
    AdminTestValidation,
    DockerTest,
    ScenarioVersion,
    ScenarioVersionAdminTest,
    ScenarioVersionTestRun,
    TestStatus,
)
from apps.scenarios.testing import version_rules
from rangex.core.audit import AuditAction, audit_record
from rangex.core.system import get_settings

logger = logging.getLogger(__name__)

LOG_TAIL = 4000


def push_run(run_id, message: dict[str, Any]) -> None:
    """Send ``message`` to every page watching the run; never fails the caller."""
    try:
        from asgiref.sync import async_to_sync
        from channels.layers import get_channel_layer

        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(f"testrun-{run_id}", {"type": "run.event", "event": message})
    except Exception:
        logger.warning("live update for test run %s failed", run_id, exc_info=True)


def _log(run: ScenarioVersionTestRun, line: str, **event: Any) -> None:
    stamp = timezone.now().strftime("%H:%M:%S")
    run.logs = f"{run.logs}{stamp} {line}\n"[-20000:]
    ScenarioVersionTestRun.objects.filter(pk=run.pk).update(logs=run.logs)
    push_run(run.pk, {"type": "progress", "message": line, **event})


def version_test_deploy_run(*, run_id) -> ScenarioVersionTestRun | None:
    """Run a pending test deployment to its end. Idempotent: only the worker that claims it runs it."""
    now = timezone.now()
    claimed = ScenarioVersionTestRun.objects.filter(pk=run_id, status=TestStatus.PENDING).update(
        status=TestStatus.RUNNING, started_at=now
    )
    run = ScenarioVersionTestRun.objects.select_related("scenario_version", "initiated_by").filter(pk=run_id).first()
    if not claimed or run is None:
        return run
    version = run.scenario_version
    deadline = time.monotonic() + 60 * get_settings().docker_test_timeout_minutes
    deployment = TestDeployment.objects.create(scenario_version=version, status="starting", started_at=now)
    run.deployment_id = str(deployment.pk)
    ScenarioVersionTestRun.objects.filter(pk=run.pk).update(deployment_id=run.deployment_id)
    push_run(run.pk, {"type": "status", "status": TestStatus.RUNNING})
    session = None
    results: list[dict] = []
    machines: list[dict] = []
    error = ""
    try:
        _log(run, f"Starting a test lab of {version}")
        session = _start(run, version)
        deployment.environment_session = session
        deployment.save(update_fields=["environment_session"])
        session = _wait_running(run, session, deadline)
        machines = _record_machines(run, version, session)
        if session.status != SessionStatus.RUNNING:
            error = session.reason_stopped or f"The lab is {session.status}."
            _log(run, f"The lab did not start: {error}")
        else:
            deployment.estimated_cost_per_hour = cost_rate_rm(session)
            results = _run_rules(run, version, session, deadline)
    except Exception as exc:  # recorded on the run: a test deployment never dies silently
        logger.exception("test run %s failed", run.pk)
        error = f"The test deployment broke: {exc}"
        _log(run, error)
    return _finish(run, version, deployment, session, results=results, machines=machines, error=error)


def _start(run, version) -> EnvironmentSession:
    from apps.environments.services.provision import env_session_provision
    from apps.environments.services.start import env_session_start

    session = env_session_start(user=run.initiated_by, version=version, is_test=True)
    ScenarioVersionTestRun.objects.filter(pk=run.pk).update(session_token=str(session.pk))
    run.session_token = str(session.pk)
    # The queued provisioning may wait behind this very task on a one-slot worker: provision here;
    # the lease makes one of the two do it.
    env_session_provision(session_id=session.pk)
    return session


def _wait_running(run, session, deadline: float) -> EnvironmentSession:
    last = ""
    while True:
        session.refresh_from_db()
        if session.progress_message and session.progress_message != last:
            last = session.progress_message
            _log(run, f"Lab: {last}")
        if session.status != SessionStatus.STARTING:
            return session
        if time.monotonic() >= deadline:
            session.reason_stopped = "The lab did not become ready within the test timeout."
            return session
        time.sleep(1)


def _record_machines(run, version, session) -> list[dict]:
    """One ``DockerTest`` per machine: its image, whether it was pulled, started, ready, and its log tail."""
    from apps.environments.services.common import session_runtime
    from apps.runtime import RuntimeFailure

    rows = []
    runtime = None
    try:
        runtime = session_runtime(session)
        states = runtime.status(str(session.pk)) if session.status == SessionStatus.RUNNING else {}
    except RuntimeFailure:
        states = {}
    for machine in version.machines.select_related("image_variant", "platform_image"):
        image = (
            machine.image_variant.image_ref
            if machine.image_variant_id
            else (machine.platform_image.image_ref if machine.platform_image_id else machine.image_ref)
        )
        started = str(states.get(machine.name, "")) == "running"
        logs = ""
        if runtime is not None and started:
            try:
                logs = runtime.machine_logs(str(session.pk), machine.name, tail=LOG_TAIL)
            except (RuntimeFailure, NotImplementedError):
                logs = ""
        pulled = runtime is not None and _present(runtime, image)
        ready = started and session.status == SessionStatus.RUNNING
        outcome = {"machine": machine.name, "image": image, "pulled": pulled, "started": started, "ready": ready}
        DockerTest.objects.create(
            test_id=f"{run.pk}:{machine.name}"[:64],
            user=run.initiated_by,
            scenario=version.scenario,
            container_ids=[machine.name],
            test_results=outcome,
            status=TestStatus.PASSED if ready else TestStatus.FAILED,
            started_at=session.started_at,
            validation_completed_at=timezone.now(),
            logs=logs[-LOG_TAIL:],
            network_name=machine.network_group,
            metadata={"run": str(run.pk), "session": str(session.pk)},
        )
        rows.append(outcome)
    return rows


def _present(runtime, image: str) -> bool:
    try:
        return bool(image) and runtime.image_present(image)
    except Exception:
        return False


def _run_rules(run, version, session, deadline: float) -> list[dict]:
    from apps.environments.services.common import session_runtime

    runtime = session_runtime(session)
    rules = version_rules(version)
    _log(run, f"The lab is running; {len(rules)} rule(s) to run")
    results = []
    for i, rule in enumerate(rules, start=1):
        if time.monotonic() >= deadline:
            results.append(
                {
                    "rule_id": rule.pk,
                    "kind": rule.check_type,
                    "passed": False,
                    "label": str(rule),
                    "machine": rule.machine_name,
                    "reason": "Not run: the test timeout was reached.",
                    "exit_code": None,
                    "output_tail": "",
                }
            )
            continue
        result = run_rule(runtime=runtime, session=session, rule=rule)
        results.append(result)
        verdict = "passed" if result["passed"] else "FAILED"
        _log(run, f"Rule {i}/{len(rules)} {verdict}: {result['label']} ({result['reason']})", rule=result)
    return results


def _finish(run, version, deployment, session, *, results, machines, error) -> ScenarioVersionTestRun:
    from apps.environments.services.lifecycle import env_session_stop_for_platform, env_session_teardown

    now = timezone.now()
    failed = [r for r in results if not r["passed"]]
    if error:
        status = TestStatus.FAILED
    elif failed:
        status = TestStatus.FAILED
        error = f"{len(failed)} of {len(results)} rule(s) failed: " + "; ".join(
            f"{r['label']}: {r['reason']}" for r in failed
        )
    else:
        status = TestStatus.PASSED
    duration = int((now - run.started_at).total_seconds())
    # The run's own cost (the machines' hourly rate over its duration), kept apart from any budget.
    rate = deployment.estimated_cost_per_hour
    cost = str((rate * duration / 3600).quantize(Decimal("0.0001"))) if rate is not None else None
    cleaned = None
    if session is not None and not (run.keep and session.status == SessionStatus.RUNNING):
        try:
            session.refresh_from_db()
            env_session_stop_for_platform(session=session, reason="Test deployment finished")
            env_session_teardown(session_id=session.pk)
            cleaned = timezone.now()
        except Exception:
            logger.exception("teardown of test session %s failed", session.pk)
    with transaction.atomic():
        admin_test = ScenarioVersionAdminTest.objects.create(
            scenario_version=version,
            created_by_admin=run.initiated_by,
            status=status,
            mode=ScenarioVersionAdminTest.Mode.FULL,
            started_at=run.started_at,
            finished_at=now,
            duration=duration,
            report_json={"run": str(run.pk), "rules": results, "machines": machines},
            summary=f"Test deployment {status}: {len(results) - len(failed)}/{len(results)} rule(s) passed.",
            error_message=error or None,
            test_session_id=session.pk if session else None,
        )
        AdminTestValidation.objects.bulk_create(
            AdminTestValidation(
                admin_test=admin_test,
                machine_name=r.get("machine", ""),
                check_type=r["kind"],
                check_target=(r.get("label") or "")[:255],
                status=AdminTestValidation.Status.PASS if r["passed"] else AdminTestValidation.Status.FAIL,
                message=r["reason"],
                details={"rule_id": r.get("rule_id"), "exit_code": r.get("exit_code"), "output_tail": r["output_tail"]},
            )
            for r in results
        )
        ScenarioVersion.objects.filter(pk=version.pk).update(last_admin_test=admin_test)
        ScenarioVersionTestRun.objects.filter(pk=run.pk).update(
            status=status,
            completed_at=now,
            duration_seconds=duration,
            error_message=error or None,
            test_results={
                "rules": results,
                "machines": machines,
                "session": str(session.pk) if session else None,
                "cost_rm": cost,
            },
        )
        TestDeployment.objects.filter(pk=deployment.pk).update(
            status=status,
            completed_at=now,
            cleaned_at=cleaned,
            error_message=error or None,
            estimated_cost_per_hour=rate,
            progress={"rules": len(results), "failed": len(failed), "cost_rm": cost},
        )
        audit_record(
            actor=run.initiated_by,
            action=AuditAction.SCENARIO_VERSION_TESTED,
            target=version,
            details={"run": str(run.pk), "status": status},
        )
    _log(run, f"Finished: {status}" + (f" ({error})" if error else ""))
    push_run(run.pk, {"type": "status", "status": status, "error": error})
    run.refresh_from_db()
    return run


def version_test_runs_stale_fail(*, older_than_minutes: int | None = None) -> int:
    """Fail runs left running by a dead worker past the test timeout (their lab expires on its own)."""
    minutes = older_than_minutes or get_settings().docker_test_timeout_minutes + 5
    cutoff = timezone.now() - timedelta(minutes=minutes)
    return ScenarioVersionTestRun.objects.filter(
        Q(status=TestStatus.RUNNING, started_at__lt=cutoff) | Q(status=TestStatus.PENDING, created_at__lt=cutoff)
    ).update(status=TestStatus.ERROR, error_message="The test deployment stopped without finishing.")
