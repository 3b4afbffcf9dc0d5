"""State changes of scenarios: authoring a DRAFT, the review workflow, and new versions.

The workflow graph is ``ScenarioVersion.TRANSITIONS``; every move along it goes through
``_transition``. Versions are never deleted: running lab sessions stay pinned to the version they
started from, so archiving a version keeps its row, machines and files.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.scenarios.image_builds import machine_context_prepare, tool_usage_refresh
from apps.scenarios.models import (
    AdminTestValidation,
    AssetScenarioVersion,
    AssetType,
    Machine,
    NetworkPivotPoint,
    Scenario,
    ScenarioAsset,
    ScenarioVersion,
    VersionStatus,
)
from apps.scenarios.quota import storage_quota_refusal
from apps.scenarios.review_notices import notify_creator as _notify_creator
from apps.scenarios.review_notices import notify_reviewers as _notify_reviewers
from apps.scenarios.testing import require_passing_run, rules_copy, validate_rule
from rangex.core.audit import (
    AuditAction,
    audit_record,
    full_clean_or_raise,
    model_update,
)
from rangex.core.errors import Conflict, InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from rangex.core.files import files_removed_on_error, stored_file_track

# Content a creator edits on a DRAFT (one list, on the model; bundles carry the same fields).
EDITABLE_FIELDS = ScenarioVersion.CONTENT_FIELDS

# Columns a new version does not inherit: identity, place in the workflow, and who moved it there.
WORKFLOW_FIELDS = (
    "id",
    "scenario",
    "version_number",
    "status",
    "created_at",
    "updated_at",
    "submitted_at",
    "approved_at",
    "promoted_at",
    "approved_by_user",
    "rejected_at",
    "rejected_by_user",
    "reject_reason",
    "is_archived",
    "archived_at",
    "published_at",
    "based_on",
    "last_admin_test",
)

# The components of a version that the admin edits inline; each belongs to exactly one version.
COMPONENT_MODELS = (Machine, ScenarioAsset, NetworkPivotPoint)
COMPONENT_ACTIONS = {
    Machine: {
        "create": AuditAction.SCENARIO_VERSION_MACHINE_CREATE,
        "update": AuditAction.SCENARIO_VERSION_MACHINE_UPDATE,
        "delete": AuditAction.SCENARIO_VERSION_MACHINE_DELETE,
    },
    ScenarioAsset: {
        "create": AuditAction.SCENARIO_VERSION_ASSET_CREATE,
        "update": AuditAction.SCENARIO_VERSION_ASSET_UPDATE,
        "delete": AuditAction.SCENARIO_VERSION_ASSET_DELETE,
    },
    NetworkPivotPoint: {
        "create": AuditAction.SCENARIO_VERSION_PIVOT_CREATE,
        "update": AuditAction.SCENARIO_VERSION_PIVOT_UPDATE,
        "delete": AuditAction.SCENARIO_VERSION_PIVOT_DELETE,
    },
    AdminTestValidation: {
        "create": AuditAction.SCENARIO_VERSION_RULE_CREATE,
        "update": AuditAction.SCENARIO_VERSION_RULE_UPDATE,
        "delete": AuditAction.SCENARIO_VERSION_RULE_DELETE,
    },
}
TRANSITION_ACTIONS = {
    VersionStatus.DRAFT: AuditAction.SCENARIO_VERSION_DRAFT,
    VersionStatus.SUBMITTED: AuditAction.SCENARIO_VERSION_SUBMITTED,
    VersionStatus.APPROVED: AuditAction.SCENARIO_VERSION_APPROVED,
    VersionStatus.REJECTED: AuditAction.SCENARIO_VERSION_REJECTED,
    VersionStatus.PUBLISHED: AuditAction.SCENARIO_VERSION_PUBLISHED,
    VersionStatus.ARCHIVED: AuditAction.SCENARIO_VERSION_ARCHIVED,
}


# --- Access rules ---------------------------------------------------------------------------------


def _is_owner(version: ScenarioVersion, actor) -> bool:
    return getattr(actor, "pk", None) is not None and version.scenario.created_by_user_id == actor.pk


def _require_owner_or_admin(version: ScenarioVersion, actor) -> None:
    if getattr(actor, "is_platform_admin", False):
        return
    if not _is_owner(version, actor):
        # Another creator's version does not exist as far as they can tell.
        raise NotFound(_("No such scenario version."))


def _require_admin(actor, what: str) -> None:
    if not getattr(actor, "is_platform_admin", False):
        raise PermissionDenied(_("Only admins may %(what)s a scenario version.") % {"what": what})


def _require_not_own(version: ScenarioVersion, actor, what: str) -> None:
    if _is_owner(version, actor):
        raise PermissionDenied(
            _("You cannot %(what)s your own scenario version; another admin must review it.") % {"what": what}
        )


def _require_editable(version: ScenarioVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise InvalidTransition(
            _("Only a draft can be edited; this version is %(lower)s. Create a new version to change it.")
            % {"lower": version.get_status_display().lower()}
        )


def _locked(version: ScenarioVersion) -> ScenarioVersion:
    """Return the version re-read under a row lock.

    Only the version row is locked here (no join): publish and archive lock the scenario row first
    and the version second, and a joined lock could take them in the other order and deadlock.
    """
    return ScenarioVersion.objects.select_for_update().get(pk=version.pk)


# --- Creating and editing ---------------------------------------------------------------------------


def scenario_author_require(actor) -> None:
    """Refuse anyone who may not author scenarios (creators and admins may)."""
    if not (getattr(actor, "role_creator", False) or getattr(actor, "is_platform_admin", False)):
        raise PermissionDenied(_("Only creators and admins may author scenarios."))


def _next_version_number(scenario: Scenario) -> int:
    """Return the next version number; call with the scenario row locked, so two callers never share one."""
    return (scenario.versions.aggregate(n=Max("version_number"))["n"] or 0) + 1


@transaction.atomic
def scenario_version_draft_add(
    *, actor, slug: str, fields: dict[str, Any], new_scenario_only: bool = False, source: str = ""
) -> ScenarioVersion:
    """Create a DRAFT whose content is ``fields``: version 1 of a new scenario ``slug`` owned by ``actor``,
    or the next version of the actor's own scenario of that slug.

    Creating by hand and importing a file both come through here, so they number versions and audit
    alike. ``source`` names the imported file, if any, in the audit row.
    """
    scenario_author_require(actor)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("Unknown field: %(items)s.") % {"items": ", ".join(sorted(unknown))},
            fields={k: [_("Unknown field.")] for k in unknown},
        )
    scenario = Scenario.objects.select_for_update().filter(slug=slug).first()
    if scenario is not None and (new_scenario_only or scenario.created_by_user_id != actor.pk):
        message = (
            _("A scenario with this slug already exists.")
            if new_scenario_only
            else _("The slug %(slug)s belongs to another creator's scenario; choose another slug.")
            % {"slug": repr(slug)}
        )
        raise ValidationFailed(message, fields={"slug": [_("Already taken.")]})
    created = scenario is None
    if created:
        scenario = Scenario(slug=slug, created_by_user=actor)
        full_clean_or_raise(scenario, validate_unique=False)
        try:
            with transaction.atomic():
                scenario.save()
        except IntegrityError:
            raise Conflict(
                _("Another scenario took the slug %(slug)s at the same moment; try again.") % {"slug": repr(slug)}
            ) from None
    version = ScenarioVersion(
        scenario=scenario, version_number=_next_version_number(scenario), status=VersionStatus.DRAFT, **fields
    )
    full_clean_or_raise(version, exclude=["scenario"])
    version.save()
    details = {"slug": slug} if created else {"version_number": version.version_number}
    if source:
        details["imported_from"] = source
    audit_record(
        actor=actor,
        action=AuditAction.SCENARIO_CREATE if created else AuditAction.SCENARIO_VERSION_NEW,
        target=version,
        details=details,
    )
    return version


def scenario_create(*, actor, slug: str, title: str, short_description: str, category: str, **fields: Any):
    """Create a scenario and its first version, a DRAFT owned by ``actor``."""
    return scenario_version_draft_add(
        actor=actor,
        slug=slug,
        fields={"title": title, "short_description": short_description, "category": category, **fields},
        new_scenario_only=True,
    )


@transaction.atomic
def scenario_version_update(*, version: ScenarioVersion, actor, data: dict[str, Any]) -> ScenarioVersion:
    """Change the content of a DRAFT version."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    _require_editable(version)
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be edited: %(items)s.") % {"items": ", ".join(sorted(unknown))},
            fields={k: [_("This field cannot be edited.")] for k in unknown},
        )
    model_update(
        instance=version,
        actor=actor,
        data=data,
        allowed=EDITABLE_FIELDS,
        action=AuditAction.SCENARIO_VERSION_UPDATE,
        clean_kwargs={"exclude": ["scenario"]},
        details=lambda changes: {"fields": sorted(changes)},
    )
    return version


def _component_version(obj: models.Model) -> ScenarioVersion:
    if not isinstance(obj, COMPONENT_MODELS):
        raise ValidationFailed(_("Not a part of a scenario version."))
    return obj.scenario_version


@transaction.atomic
def scenario_version_component_save(*, version: ScenarioVersion, actor, obj: models.Model) -> models.Model:
    """Create or change a machine, asset or pivot point of a DRAFT version."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    _require_editable(version)
    if obj.pk is not None and obj._meta.model.objects.filter(pk=obj.pk).exclude(scenario_version=version).exists():
        raise NotFound(_("No such part of this scenario version."))
    obj.scenario_version = version
    if isinstance(obj, ScenarioAsset):
        if obj.machine is not None and obj.machine.scenario_version_id != version.pk:
            raise ValidationFailed(
                _("The machine belongs to another version."), fields={"machine": [_("Not in this version.")]}
            )
        asset_describe_upload(obj)
        asset_check(obj, actor=actor)
    if isinstance(obj, Machine):
        machine_context_prepare(obj)
    if isinstance(obj, AdminTestValidation):
        validate_rule(obj, version)
    created = obj._state.adding
    full_clean_or_raise(obj)
    new_file = isinstance(obj, ScenarioAsset) and bool(obj.file) and not getattr(obj.file, "_committed", True)
    with files_removed_on_error():
        obj.save()
        if new_file:
            # A rollback of the caller's transaction must take the stored file with it.
            stored_file_track(storage=obj.file.storage, name=obj.file.name)
    audit_record(
        actor=actor,
        action=COMPONENT_ACTIONS[type(obj)]["create" if created else "update"],
        target=version,
        details={"component": str(obj), "component_id": str(obj.pk)},
    )
    return obj


def asset_describe_upload(asset: ScenarioAsset) -> None:
    """Fill in the name, size and SHA-256 of a newly uploaded asset file."""
    if not asset.file or getattr(asset.file, "_committed", True):
        return
    digest = hashlib.sha256()
    for chunk in asset.file.chunks():
        digest.update(chunk)
    asset.sha256 = digest.hexdigest()
    asset.file_size = asset.file.size
    if not asset.file_name:
        asset.file_name = asset.file.name.rsplit("/", 1)[-1][:255]


def asset_check(asset: ScenarioAsset, *, actor) -> None:
    """Refuse an oversize file, a file over the owner's storage quota, or a type its fields contradict.

    Every path that stores an asset calls it: the admin and API through the services, imports per file.
    """
    errors: dict[str, list[str]] = {}
    limit = settings.RANGEX_MAX_ASSET_BYTES
    if asset.file_size > limit:
        errors["file"] = [
            _("The file is %(size)s MB; assets may be at most %(limit)s MB.")
            % {"size": format(asset.file_size / (1024 * 1024), ".1f"), "limit": format(limit / (1024 * 1024), ".1f")}
        ]
    name = asset.file_name or ""
    if "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        errors["file_name"] = [_("Use a plain file name without folders.")]
    if asset.asset_type == AssetType.MACHINE_FILE:
        if asset.machine is None:
            errors["machine"] = [_("A machine file needs the machine it is copied into.")]
        path = asset.target_path or ""
        if not path.startswith("/") or ".." in path.split("/"):
            errors["target_path"] = [_("Give the absolute path inside the machine, without '..'.")]
    elif asset.machine is not None or asset.target_path:
        errors["asset_type"] = [
            _("Only a machine file is copied into a machine; choose that type or clear the machine and target path.")
        ]
    if not errors:
        refusal = storage_quota_refusal(
            owner_id=asset.scenario_version.scenario.created_by_user_id,
            add_bytes=asset.file_size,
            exclude_scenario_asset=asset.pk,
        )
        if refusal:
            errors["file"] = [refusal]
    if errors:
        raise ValidationFailed(
            _("The asset was not saved: %(errors)s")
            % {"errors": " ".join(str(m) for ms in errors.values() for m in ms)},
            fields=errors,
        )


@transaction.atomic
def scenario_version_component_delete(*, version: ScenarioVersion, actor, obj: models.Model) -> None:
    """Remove a machine, asset or pivot point from a DRAFT version."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    _require_editable(version)
    if _component_version(obj).pk != version.pk:
        raise NotFound(_("No such part of this scenario version."))
    label, pk = str(obj), str(obj.pk)
    obj.delete()
    audit_record(
        actor=actor,
        action=COMPONENT_ACTIONS[type(obj)]["delete"],
        target=version,
        details={"component": label, "component_id": pk},
    )


def machine_add(*, version: ScenarioVersion, actor, **fields: Any) -> Machine:
    """Add a machine to a DRAFT version."""
    return scenario_version_component_save(
        version=version, actor=actor, obj=Machine(scenario_version=version, **fields)
    )


def validation_rule_add(*, version: ScenarioVersion, actor, **fields: Any) -> AdminTestValidation:
    """Add a validation rule to a DRAFT version; refused, naming the field, when it names a missing machine/question."""
    fields.setdefault("position", version.validation_rules.count())
    return scenario_version_component_save(
        version=version, actor=actor, obj=AdminTestValidation(scenario_version=version, **fields)
    )


def pivot_point_add(*, version: ScenarioVersion, actor, source: str, target: str, description: str = ""):
    """Link two network groups of a DRAFT version through its pivot hosts."""
    obj = NetworkPivotPoint(
        scenario_version=version, source_network_group=source, target_network_group=target, description=description
    )
    return scenario_version_component_save(version=version, actor=actor, obj=obj)


# --- The review workflow ------------------------------------------------------------------------------


def _check_transition(version: ScenarioVersion, to: str) -> None:
    source = version.status
    if to not in ScenarioVersion.TRANSITIONS.get(source, set()):
        raise InvalidTransition(
            _("A version cannot go from %(lower)s to %(lower2)s.")
            % {"lower": VersionStatus(source).label.lower(), "lower2": VersionStatus(to).label.lower()},
            from_status=source,
            to_status=to,
        )


def _transition(version: ScenarioVersion, actor, to: str, **stamps: Any) -> ScenarioVersion:
    """Move a locked version to ``to`` if the table allows it; stamp, save and audit. Call inside atomic."""
    _check_transition(version, to)
    source = version.status
    version.status = to
    for name, value in stamps.items():
        setattr(version, name, value)
    version.save(update_fields=["status", *stamps])
    details = {"from": source, "to": to}
    if "reject_reason" in stamps:
        details["reason"] = stamps["reject_reason"]
    audit_record(actor=actor, action=TRANSITION_ACTIONS[to], target=version, details=details)
    return version


@transaction.atomic
def scenario_version_submit(*, version: ScenarioVersion, actor) -> ScenarioVersion:
    """Send a DRAFT for review after it passes the submit validation."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    _check_transition(version, VersionStatus.SUBMITTED)
    errors = scenario_version_validate(version=version)
    if errors:
        first_messages = next(iter(errors.values()))
        raise ValidationFailed(
            _("The version is not ready for review (%(count)s to fix): %(value)s")
            % {"count": len(errors), "value": first_messages[0]},
            fields=errors,
        )
    # A version sent back by a reviewer and submitted again is a resubmission.
    resubmitted = version.rejected_at is not None
    _transition(version, actor, VersionStatus.SUBMITTED, submitted_at=timezone.now())
    _notify_reviewers(version, actor=actor, resubmitted=resubmitted)
    return version


@transaction.atomic
def scenario_version_withdraw(*, version: ScenarioVersion, actor) -> ScenarioVersion:
    """Take a SUBMITTED version back to DRAFT before an admin decides; only its creator may."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    if not _is_owner(version, actor):
        raise PermissionDenied(_("Only the creator of a scenario may withdraw it from review; reject it instead."))
    if version.status != VersionStatus.SUBMITTED:
        raise InvalidTransition(_("Only a version waiting for review can be withdrawn."))
    return _transition(version, actor, VersionStatus.DRAFT, submitted_at=None)


@transaction.atomic
def scenario_version_reopen(*, version: ScenarioVersion, actor) -> ScenarioVersion:
    """Turn a REJECTED version back into a DRAFT; the reason stays visible to the creator."""
    version = _locked(version)
    _require_owner_or_admin(version, actor)
    if version.status != VersionStatus.REJECTED:
        raise InvalidTransition(_("Only a rejected version can be reopened."))
    return _transition(version, actor, VersionStatus.DRAFT)


@transaction.atomic
def scenario_version_approve(*, version: ScenarioVersion, actor, require_test: bool = True) -> ScenarioVersion:
    """Approve a SUBMITTED version; the creator of the scenario may not approve it.

    With the publish gate on, a passing test deployment of the exact content is required; only the
    demo seed (which runs without an engine) passes ``require_test=False``.
    """
    _require_admin(actor, _("approve"))
    version = _locked(version)
    _require_not_own(version, actor, _("approve"))
    if require_test:
        require_passing_run(version, "approve")
    _transition(version, actor, VersionStatus.APPROVED, approved_at=timezone.now(), approved_by_user=actor)
    _notify_creator(
        version,
        preference="notify_on_approval",
        title=format_lazy(gettext_lazy("Approved: {version}"), version=version),
        body=format_lazy(
            gettext_lazy("{public_name} approved {version}. It goes live when an admin publishes it."),
            public_name=actor.public_name,
            version=version,
        ),
    )
    return version


@transaction.atomic
def scenario_version_reject(*, version: ScenarioVersion, actor, reason: str) -> ScenarioVersion:
    """Send a SUBMITTED or APPROVED version back to its creator with a reason."""
    _require_admin(actor, _("reject"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_("Give the creator a reason for the rejection."), fields={"reason": [_("Required.")]})
    version = _locked(version)
    _require_not_own(version, actor, _("reject"))
    _transition(
        version,
        actor,
        VersionStatus.REJECTED,
        rejected_at=timezone.now(),
        rejected_by_user=actor,
        reject_reason=reason,
    )
    _notify_creator(
        version,
        preference="notify_on_rejection",
        title=format_lazy(gettext_lazy("Changes requested: {version}"), version=version),
        body=format_lazy(
            gettext_lazy("{public_name} rejected {version}:\n\n{reason}"),
            public_name=actor.public_name,
            version=version,
            reason=reason,
        ),
    )
    return version


@transaction.atomic
def scenario_version_publish(*, version: ScenarioVersion, actor, require_test: bool = True) -> ScenarioVersion:
    """Publish an APPROVED version, archiving the scenario's previously published one."""
    _require_admin(actor, _("publish"))
    # Lock the scenario first (then the version, the same order as archive): MariaDB cannot enforce
    # "one PUBLISHED per scenario" with a partial unique index, so the scenario row serialises publishes.
    scenario = Scenario.objects.select_for_update().get(pk=version.scenario_id)
    version = _locked(version)
    version.scenario = scenario
    _check_transition(version, VersionStatus.PUBLISHED)
    if require_test:
        require_passing_run(version, "publish")
    now = timezone.now()
    previous = list(
        ScenarioVersion.objects.select_for_update()
        .filter(scenario=scenario, status=VersionStatus.PUBLISHED)
        .exclude(pk=version.pk)
    )
    for old in previous:
        _transition(old, actor, VersionStatus.ARCHIVED, archived_at=now, is_archived=True)
    _transition(version, actor, VersionStatus.PUBLISHED, published_at=now, promoted_at=now)
    if not scenario.is_published:
        scenario.is_published = True
        scenario.save(update_fields=["is_published"])
    _notify_creator(
        version,
        preference="notify_on_approval",
        title=format_lazy(gettext_lazy("Published: {version}"), version=version),
        body=format_lazy(gettext_lazy("{version} is now live for solvers."), version=version),
    )
    return version


@transaction.atomic
def scenario_version_archive(*, version: ScenarioVersion, actor) -> ScenarioVersion:
    """Retire a version. Creators archive their drafts and rejected versions; admins archive any."""
    scenario = Scenario.objects.select_for_update().get(pk=version.scenario_id)
    version = _locked(version)
    version.scenario = scenario
    _require_owner_or_admin(version, actor)
    if version.status in (VersionStatus.APPROVED, VersionStatus.PUBLISHED) and not getattr(
        actor, "is_platform_admin", False
    ):
        raise PermissionDenied(_("Only admins may archive an approved or published scenario version."))
    was_published = version.status == VersionStatus.PUBLISHED
    _transition(version, actor, VersionStatus.ARCHIVED, archived_at=timezone.now(), is_archived=True)
    if was_published:
        still_published = scenario.versions.filter(status=VersionStatus.PUBLISHED).exists()
        if scenario.is_published != still_published:
            scenario.is_published = still_published
            scenario.save(update_fields=["is_published"])
    return version


def scenario_version_validate(*, version: ScenarioVersion) -> dict[str, list[str]]:
    """Return the submit validation's messages per field; empty when the version may be submitted."""
    from apps.scenarios.validation import version_errors

    return version_errors(version)


# --- New versions ----------------------------------------------------------------------------------


def _copy_fields(source: models.Model, skip: tuple[str, ...]) -> dict[str, Any]:
    values = {}
    for field in source._meta.concrete_fields:
        if field.name in skip:
            continue
        value = getattr(source, field.attname)
        values[field.attname] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
    return values


@transaction.atomic
def scenario_version_new(*, source: ScenarioVersion, actor) -> ScenarioVersion:
    """Clone ``source`` (any status) into a DRAFT with the next version number."""
    # The scenario row lock makes "highest number + 1" safe against two clones at once.
    scenario = Scenario.objects.select_for_update().get(pk=source.scenario_id)
    source = ScenarioVersion.objects.select_related("scenario").get(pk=source.pk)
    _require_owner_or_admin(source, actor)
    version = ScenarioVersion(
        scenario=scenario,
        version_number=_next_version_number(scenario),
        status=VersionStatus.DRAFT,
        based_on=source,
        **_copy_fields(source, WORKFLOW_FIELDS),
    )
    version.save()

    machine_skip = ("id", "scenario_version", "created_at", "updated_at")
    machines: dict[Any, Machine] = {}
    for machine in source.machines.all():
        clone = Machine(scenario_version=version, **_copy_fields(machine, machine_skip))
        # ssh_password is read decrypted and re-encrypted on save.
        clone.save()
        clone.tools.set(machine.tools.all())
        machines[machine.pk] = clone

    asset_skip = ("id", "scenario_version", "machine", "file", "uploaded_at")
    for asset in source.assets.all():
        clone = ScenarioAsset(
            scenario_version=version,
            machine=machines.get(asset.machine_id),
            **_copy_fields(asset, asset_skip),
        )
        if asset.file:
            with asset.file.open("rb") as fh:
                clone.file.save(
                    asset.file_name or asset.file.name.rsplit("/", 1)[-1], ContentFile(fh.read()), save=False
                )
        clone.save()

    for point in source.pivot_points.all():
        NetworkPivotPoint.objects.create(
            scenario_version=version, **_copy_fields(point, ("id", "scenario_version", "created_at"))
        )

    # Library attachments stay; machine files follow the cloned machines.
    AssetScenarioVersion.objects.bulk_create(
        [
            AssetScenarioVersion(
                asset_id=link.asset_id,
                scenario_version=version,
                asset_type=link.asset_type,
                machine=machines.get(link.machine_id),
                target_path=link.target_path,
                permissions=link.permissions,
            )
            for link in source.asset_links.filter(asset__deleted_from_minio=False)
        ]
    )
    rules_copy(source=source, target=version)
    audit_record(
        actor=actor,
        action=AuditAction.SCENARIO_VERSION_NEW,
        target=version,
        details={"based_on": str(source.pk), "based_on_number": source.version_number},
    )
    tool_usage_refresh()
    return version
