"""Validation rules of a version, the content hash a test run proves, and the publish gate.

A rule (``AdminTestValidation`` with ``scenario_version``) is content of its version: it is edited
inline in the admin, copied to a new version, carried by bundles and part of ``content_hash``. What
each kind uses:

- ``command``: ``machine_name``, ``run_as``, ``command`` (a /bin/sh script), ``expected_exit_code``
  and/or ``pattern`` (a regular expression the output must contain);
- ``reachable``: from ``machine_name`` to ``target_machine``:``port`` over TCP; ``expect_reachable``
  off proves the port is NOT reachable (the segmentation a mission relies on);
- ``http``: a GET of ``check_target`` (a URL) from ``machine_name``; ``expected_status`` and/or
  ``pattern`` on the body;
- ``file``: ``check_target`` (an absolute path) exists in ``machine_name``, optionally containing
  ``pattern``;
- ``solution``: ``command`` run in ``machine_name`` as ``run_as``; the last non-empty line of its
  output is graded as the answer to ``question_id`` by the normal grading engine (so a per-session
  dynamic flag proves the whole route).

Running the rules is ``apps.environments.services.rules``; a test deployment is
``apps.environments.services.testdeploy``.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from apps.scenarios.models import AdminTestValidation, ScenarioVersion, ScenarioVersionTestRun, TestStatus
from rangex.core.audit import AuditAction, audit_record
from rangex.core.errors import Conflict, PermissionDenied, ValidationFailed
from rangex.core.scheduling import enqueue
from rangex.core.system import get_settings

ACTIVE = (TestStatus.PENDING, TestStatus.RUNNING)

CheckType = AdminTestValidation.CheckType
RULE_KINDS = (CheckType.COMMAND, CheckType.REACHABLE, CheckType.HTTP, CheckType.FILE, CheckType.SOLUTION)
# The columns of a rule that are its content (bundles carry exactly these).
RULE_FIELDS = (
    "check_type",
    "machine_name",
    "run_as",
    "command",
    "expected_exit_code",
    "pattern",
    "target_machine",
    "port",
    "expect_reachable",
    "check_target",
    "expected_status",
    "question_id",
    "timeout_seconds",
)


def version_rules(version: ScenarioVersion) -> list[AdminTestValidation]:
    return list(version.validation_rules.order_by("position", "id"))


def rule_problems(rule: AdminTestValidation, *, machines: set[str], questions: set[str]) -> dict[str, list[str]]:
    """Return field -> what is wrong with ``rule`` for a version with these machine and question ids."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    kind = rule.check_type
    if kind not in RULE_KINDS:
        add("check_type", _("Choose what the rule checks: command, reachable, http, file or solution."))
        return errors
    if rule.machine_name not in machines:
        add(
            "machine_name",
            _("This version has no machine named %(machine_name)s.") % {"machine_name": repr(rule.machine_name)},
        )
    if rule.pattern:
        try:
            re.compile(rule.pattern)
        except re.error as exc:
            add("pattern", _("This is not a valid regular expression: %(exc)s.") % {"exc": exc})
    if kind in (CheckType.COMMAND, CheckType.SOLUTION) and not rule.command.strip():
        add("command", _("Give the script to run."))
    if kind == CheckType.COMMAND and rule.expected_exit_code is None and not rule.pattern:
        add("expected_exit_code", _("Give the exit code expected, an output pattern, or both."))
    if kind == CheckType.REACHABLE:
        if rule.target_machine not in machines:
            add(
                "target_machine",
                _("This version has no machine named %(target_machine)s.")
                % {"target_machine": repr(rule.target_machine)},
            )
        if not rule.port or not 1 <= rule.port <= 65535:
            add("port", _("Give a TCP port from 1 to 65535."))
    if kind == CheckType.HTTP:
        if not re.match(r"^https?://[^\s]+$", rule.check_target or ""):
            add("check_target", _("Give the URL to request, starting with http:// or https://."))
        if rule.expected_status is None and not rule.pattern:
            add("expected_status", _("Give the status expected, a body pattern, or both."))
    if kind == CheckType.FILE and not (rule.check_target or "").startswith("/"):
        add("check_target", _("Give the file's absolute path."))
    if kind == CheckType.SOLUTION and rule.question_id not in questions:
        add("question_id", _("This version has no question %(question_id)s.") % {"question_id": repr(rule.question_id)})
    if not rule.run_as.strip():
        add("run_as", _("Give the user the command runs as."))
    return errors


def version_names(version: ScenarioVersion) -> tuple[set[str], set[str]]:
    machines = set(version.machines.values_list("name", flat=True))
    questions = {str(q.get("id")) for q in version.questions or [] if isinstance(q, dict)}
    return machines, questions


def validate_rule(rule: AdminTestValidation, version: ScenarioVersion) -> None:
    """Raise ValidationFailed naming the field when ``rule`` names a machine or question that does not exist."""
    machines, questions = version_names(version)
    errors = rule_problems(rule, machines=machines, questions=questions)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, fields=errors)


def rules_errors(version: ScenarioVersion) -> dict[str, list[str]]:
    """Problems of the rules at submit time (a machine renamed or a question removed after a rule named it)."""
    machines, questions = version_names(version)
    errors: dict[str, list[str]] = {}
    for i, rule in enumerate(version_rules(version)):
        for field, messages in rule_problems(rule, machines=machines, questions=questions).items():
            errors.setdefault(f"validation_rules[{i}].{field}", []).extend(messages)
    return errors


def rule_content(rule: AdminTestValidation) -> dict[str, Any]:
    return {name: getattr(rule, name) for name in RULE_FIELDS}


def rules_copy(*, source: ScenarioVersion, target: ScenarioVersion) -> None:
    """Copy the rules of ``source`` to a new version ``target`` (a new version inherits its content)."""
    AdminTestValidation.objects.bulk_create(
        AdminTestValidation(scenario_version=target, position=i, **rule_content(rule))
        for i, rule in enumerate(version_rules(source))
    )


# --- Content hash -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


# Identity, stamps and build outputs: not content.
_NOT_CONTENT = {"id", "scenario_version", "created_at", "updated_at", "ecr_uri", "ecr_digest", "task_definition_arn"}


def _columns(obj, *, skip: set[str]) -> dict[str, Any]:
    return {f.attname: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields if f.name not in skip}


def content_hash(version: ScenarioVersion) -> str:
    """Return the sha256 of what a test run proves: the version's content, machines, files and rules.

    Any edit of one of them gives another hash, so an earlier passing run no longer opens the gate.
    Machine passwords count by their own hash (a password change can make a version unsolvable).
    """
    doc: dict[str, Any] = {
        "version": {name: _plain(getattr(version, name)) for name in ScenarioVersion.CONTENT_FIELDS},
        "machines": [],
        "assets": [],
        "pivots": [],
        "rules": [_plain(rule_content(r)) for r in version_rules(version)],
    }
    for machine in version.machines.order_by("sort_order", "name"):
        row = _columns(machine, skip=_NOT_CONTENT)
        row["ssh_password"] = hashlib.sha256((machine.ssh_password or "").encode()).hexdigest()
        doc["machines"].append(row)
    for asset in version.assets.select_related("machine").order_by("id"):
        row = _columns(asset, skip=_NOT_CONTENT | {"machine"})
        row["machine"] = asset.machine.name if asset.machine_id else None
        doc["assets"].append(row)
    for pivot in version.pivot_points.order_by("id"):
        doc["pivots"].append([pivot.source_network_group, pivot.target_network_group])
    blob = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


# --- The publish gate -------------------------------------------------------------------------


def passing_run(version: ScenarioVersion) -> ScenarioVersionTestRun | None:
    """Return the latest passing test run of the version's current content, if any."""
    return (
        version.test_runs.filter(status=TestStatus.PASSED, content_hash=content_hash(version))
        .order_by("-completed_at", "-created_at")
        .first()
    )


def latest_run(version: ScenarioVersion) -> ScenarioVersionTestRun | None:
    return version.test_runs.order_by("-created_at").first()


def require_passing_run(version: ScenarioVersion, action: str) -> None:
    """Refuse ``action`` (approve, publish) without a passing test run of this exact content, when the gate is on."""
    if not get_settings().publish_requires_test_run or not version.requires_machines:
        return
    if passing_run(version) is None:
        latest = latest_run(version)
        why = _("it has never been test-deployed")
        if latest is not None and latest.content_hash != content_hash(version):
            why = _("its content changed since the last test deployment")
        elif latest is not None and latest.status != TestStatus.PASSED:
            why = _("its last test deployment is %(status)s") % {"status": latest.status}
        done = {"approve": _("approved"), "publish": _("published")}.get(action, f"{action}d")
        raise Conflict(
            _("This version cannot be %(done)s: %(why)s. Run a test deployment that passes first.")
            % {"done": done, "why": why}
        )


# --- Requesting a test deployment -------------------------------------------------------------


def version_test_deploy_request(*, version: ScenarioVersion, actor, keep: bool = False) -> ScenarioVersionTestRun:
    """Queue a test deployment of ``version``; a version already being tested returns its running run.

    The run itself is ``apps.environments.services.testdeploy.version_test_deploy_run`` (a Celery task, on commit).
    """
    if actor is None or not actor.is_platform_admin:
        raise PermissionDenied(_("Only admins may test-deploy a version."))
    with transaction.atomic():
        version = ScenarioVersion.objects.select_for_update().get(pk=version.pk)
        running = version.test_runs.filter(status__in=ACTIVE).order_by("created_at").first()
        if running is not None:
            return running
        run = ScenarioVersionTestRun.objects.create(
            scenario_version=version,
            initiated_by=actor,
            status=TestStatus.PENDING,
            content_hash=content_hash(version),
            keep=keep,
        )
        audit_record(
            actor=actor, action=AuditAction.SCENARIO_VERSION_TEST_DEPLOY, target=version, details={"run": str(run.pk)}
        )
        enqueue("apps.environments.tasks.version_test_deploy_task", str(run.pk))
    return run


def admin_test_sign_off(*, version: ScenarioVersion, actor, passed: bool, notes: str):
    """Record an admin's manual sign-off (or refusal) of a version, with notes; it becomes its last admin test."""
    from django.utils import timezone

    from apps.scenarios.models import ScenarioVersionAdminTest

    if actor is None or not actor.is_platform_admin:
        raise PermissionDenied(_("Only admins may sign a version off."))
    notes = (notes or "").strip()
    if not notes:
        raise ValidationFailed(_("Write what you checked."), fields={"summary": [_("Write what you checked.")]})
    now = timezone.now()
    with transaction.atomic():
        test = ScenarioVersionAdminTest.objects.create(
            scenario_version=version,
            created_by_admin=actor,
            status=TestStatus.PASSED if passed else TestStatus.FAILED,
            started_at=now,
            finished_at=now,
            duration=0,
            summary=notes,
            report_json={"manual": True, "content_hash": content_hash(version)},
        )
        ScenarioVersion.objects.filter(pk=version.pk).update(last_admin_test=test)
        audit_record(
            actor=actor,
            action=AuditAction.SCENARIO_VERSION_SIGN_OFF,
            target=version,
            details={"passed": passed, "admin_test": str(test.pk)},
        )
    return test
