"""The review workflow: every transition of the table, the publish rule, cloning, and who may do what."""

from __future__ import annotations

import hashlib
import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from apps.accounts.factories import AdminFactory, CreatorFactory
from apps.accounts.models import CreatorPreferences
from apps.scenarios import services
from apps.scenarios.factories import (
    MachineFactory,
    draft_version,
    published_version,
    submitted_version,
    version_in,
)
from apps.scenarios.models import (
    Asset,
    AssetScenarioVersion,
    Machine,
    ScenarioAsset,
    ScenarioVersion,
    VersionStatus,
)
from rangex.core.errors import InvalidTransition, NotFound, PermissionDenied, ValidationFailed
from rangex.core.models import AuditLog, Notification

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _gate_off(publish_gate_off):
    """The workflow's transitions, without the publish gate (tests/test_testdeploy covers the gate)."""

STATUSES = list(VersionStatus.values)
ALLOWED = [(src, dst) for src in STATUSES for dst in STATUSES if dst in ScenarioVersion.TRANSITIONS[src]]
ILLEGAL = [(src, dst) for src in STATUSES for dst in STATUSES if dst not in ScenarioVersion.TRANSITIONS[src]]


def _move(version, to, *, admin):
    """Call the service that moves ``version`` to ``to``, as the actor that service expects."""
    owner = version.scenario.created_by_user
    if to == VersionStatus.SUBMITTED:
        return services.scenario_version_submit(version=version, actor=owner)
    if to == VersionStatus.APPROVED:
        return services.scenario_version_approve(version=version, actor=admin)
    if to == VersionStatus.REJECTED:
        return services.scenario_version_reject(version=version, actor=admin, reason="Fix the hints.")
    if to == VersionStatus.PUBLISHED:
        return services.scenario_version_publish(version=version, actor=admin)
    if to == VersionStatus.ARCHIVED:
        return services.scenario_version_archive(version=version, actor=admin)
    if version.status == VersionStatus.SUBMITTED:
        return services.scenario_version_withdraw(version=version, actor=owner)
    return services.scenario_version_reopen(version=version, actor=owner)


@pytest.mark.parametrize(("source", "target"), ALLOWED, ids=[f"{s}->{t}" for s, t in ALLOWED])
def test_allowed_transition_moves_and_audits(source, target):
    admin = AdminFactory()
    version = version_in(source)
    moved = _move(version, target, admin=admin)
    moved.refresh_from_db()
    assert moved.status == target
    assert AuditLog.objects.filter(action_type=f"scenario_version.{target.lower()}", target_id=str(moved.pk)).exists()


@pytest.mark.parametrize(("source", "target"), ILLEGAL, ids=[f"{s}->{t}" for s, t in ILLEGAL])
def test_illegal_transition_is_refused(source, target):
    admin = AdminFactory()
    version = version_in(source)
    with pytest.raises(InvalidTransition):
        _move(version, target, admin=admin)
    if target == VersionStatus.DRAFT:
        # Both ways back to DRAFT refuse, whichever the status.
        for service in (services.scenario_version_withdraw, services.scenario_version_reopen):
            with pytest.raises(InvalidTransition):
                service(version=version, actor=version.scenario.created_by_user)
    version.refresh_from_db()
    assert version.status == source


def test_invalid_transition_names_both_states():
    version = draft_version()
    with pytest.raises(InvalidTransition) as exc:
        services.scenario_version_publish(version=version, actor=AdminFactory())
    assert "draft" in exc.value.message and "published" in exc.value.message
    assert exc.value.status_code == 409


def test_workflow_stamps_who_and_when():
    admin = AdminFactory()
    version = submitted_version()
    assert version.submitted_at is not None
    services.scenario_version_approve(version=version, actor=admin)
    version.refresh_from_db()
    assert version.approved_by_user == admin and version.approved_at is not None
    services.scenario_version_publish(version=version, actor=admin)
    version.refresh_from_db()
    assert version.published_at is not None and version.promoted_at is not None
    assert version.scenario.is_published


def test_reject_requires_a_reason_and_records_it():
    admin = AdminFactory()
    version = submitted_version()
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_version_reject(version=version, actor=admin, reason="   ")
    assert "reason" in exc.value.fields
    version.refresh_from_db()
    assert version.status == VersionStatus.SUBMITTED
    services.scenario_version_reject(version=version, actor=admin, reason="The flag is guessable.")
    version.refresh_from_db()
    assert version.reject_reason == "The flag is guessable."
    assert version.rejected_by_user == admin and version.rejected_at is not None


def test_self_approval_is_refused_even_for_an_admin_creator():
    admin_creator = AdminFactory(role_creator=True)
    version = submitted_version(creator=admin_creator)
    with pytest.raises(PermissionDenied):
        services.scenario_version_approve(version=version, actor=admin_creator)
    with pytest.raises(PermissionDenied):
        services.scenario_version_reject(version=version, actor=admin_creator, reason="No.")


def test_creator_cannot_approve_publish_or_reject():
    version = submitted_version()
    other = CreatorFactory()
    with pytest.raises(PermissionDenied):
        services.scenario_version_approve(version=version, actor=other)
    with pytest.raises(PermissionDenied):
        services.scenario_version_reject(version=version, actor=other, reason="x")
    with pytest.raises(PermissionDenied):
        services.scenario_version_publish(version=version, actor=other)


def test_only_the_owner_submits_withdraws_and_clones():
    version = draft_version()
    stranger = CreatorFactory()
    with pytest.raises(NotFound):
        services.scenario_version_submit(version=version, actor=stranger)
    with pytest.raises(NotFound):
        services.scenario_version_new(source=version, actor=stranger)
    services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)
    with pytest.raises(NotFound):
        services.scenario_version_withdraw(version=version, actor=stranger)


def test_creator_cannot_archive_a_published_version():
    version = published_version()
    with pytest.raises(PermissionDenied):
        services.scenario_version_archive(version=version, actor=version.scenario.created_by_user)


def test_only_a_draft_is_editable():
    version = submitted_version()
    owner = version.scenario.created_by_user
    with pytest.raises(InvalidTransition):
        services.scenario_version_update(version=version, actor=owner, data={"title": "New"})
    with pytest.raises(InvalidTransition):
        MachineFactory(scenario_version=version, actor=owner, name="late")
    with pytest.raises(InvalidTransition):
        services.scenario_version_component_delete(version=version, actor=owner, obj=version.machines.get())
    assert version.machines.count() == 1


def test_update_changes_a_draft_and_refuses_workflow_fields():
    version = draft_version()
    owner = version.scenario.created_by_user
    services.scenario_version_update(version=version, actor=owner, data={"title": "Renamed", "estimated_minutes": 30})
    version.refresh_from_db()
    assert (version.title, version.estimated_minutes) == ("Renamed", 30)
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_version_update(version=version, actor=owner, data={"status": "PUBLISHED"})
    assert "status" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.scenario_version_update(version=version, actor=owner, data={"estimated_minutes": 0})
    assert "estimated_minutes" in exc.value.fields


def test_publishing_a_second_version_archives_the_first():
    admin = AdminFactory()
    first = published_version(admin=admin)
    owner = first.scenario.created_by_user
    second = services.scenario_version_new(source=first, actor=owner)
    services.scenario_version_submit(version=second, actor=owner)
    services.scenario_version_approve(version=second, actor=admin)
    services.scenario_version_publish(version=second, actor=admin)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == VersionStatus.ARCHIVED and first.is_archived and first.archived_at
    assert second.status == VersionStatus.PUBLISHED
    assert ScenarioVersion.objects.filter(scenario=first.scenario, status=VersionStatus.PUBLISHED).count() == 1
    assert second.scenario.is_published


def test_archiving_the_published_version_unpublishes_the_scenario():
    admin = AdminFactory()
    version = published_version(admin=admin)
    services.scenario_version_archive(version=version, actor=admin)
    version.scenario.refresh_from_db()
    assert version.scenario.is_published is False


def test_review_decisions_notify_the_creator_unless_they_opted_out(django_capture_on_commit_callbacks):
    admin = AdminFactory()
    version = submitted_version()
    owner = version.scenario.created_by_user
    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_version_approve(version=version, actor=admin)
    assert Notification.objects.filter(user=owner, type="review", title__startswith="Approved").exists()

    other = submitted_version()
    CreatorPreferences.objects.create(user=other.scenario.created_by_user, notify_on_rejection=False)
    with django_capture_on_commit_callbacks(execute=True):
        services.scenario_version_reject(version=other, actor=admin, reason="No.")
    assert not Notification.objects.filter(user=other.scenario.created_by_user).exists()


def test_new_version_numbers_follow_under_the_scenario_lock():
    version = published_version()
    owner = version.scenario.created_by_user
    v2 = services.scenario_version_new(source=version, actor=owner)
    v3 = services.scenario_version_new(source=version, actor=owner)
    assert (v2.version_number, v3.version_number) == (2, 3)
    assert v2.status == VersionStatus.DRAFT and v2.based_on == version


CLONE_SKIP = {
    "id",
    "status",
    "created_at",
    "updated_at",
    "version_number",
    "based_on",
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
    "last_admin_test",
}


def _values(obj, skip):
    return {f.name: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.name not in skip}


def test_new_version_is_a_faithful_clone(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    version = draft_version(
        machines=[
            {"name": "attacker", "network_group": "dmz", "ssh_username": "kali", "ssh_password": "s3cret!"},
            {"name": "pivot", "network_group": "internal", "is_pivot_host": True, "allow_solver_entry": False},
        ],
        tags=["web", "pivot"],
        hint_mode="penalty",
        metadata={"k": [1, 2]},
    )
    owner = version.scenario.created_by_user
    services.pivot_point_add(version=version, actor=owner, source="dmz", target="internal")
    asset = ScenarioAsset(
        scenario_version=version,
        machine=version.machines.get(name="attacker"),
        asset_type="machine_file",
        target_path="/root/notes.txt",
        file=ContentFile(b"hello", name="notes.txt"),
    )
    services.scenario_version_component_save(version=version, actor=owner, obj=asset)
    assert (asset.file_name, asset.file_size) == ("notes.txt", 5)
    assert asset.sha256 == hashlib.sha256(b"hello").hexdigest()
    library = Asset.objects.create(name="wordlist", storage_key="lib/wordlist.txt", created_by_user=owner)
    AssetScenarioVersion.objects.create(asset=library, scenario_version=version)

    clone = services.scenario_version_new(source=version, actor=owner)
    clone = ScenarioVersion.objects.get(pk=clone.pk)
    version = ScenarioVersion.objects.get(pk=version.pk)

    assert _values(clone, CLONE_SKIP) == _values(version, CLONE_SKIP)
    machine_skip = {"id", "scenario_version", "created_at", "updated_at"}
    old_machines = {m.name: _values(m, machine_skip) for m in version.machines.all()}
    new_machines = {m.name: _values(m, machine_skip) for m in clone.machines.all()}
    assert new_machines == old_machines
    assert Machine.objects.get(scenario_version=clone, name="attacker").ssh_password == "s3cret!"
    assert [(p.source_network_group, p.target_network_group) for p in clone.pivot_points.all()] == [("dmz", "internal")]
    copied = clone.assets.get()
    assert copied.machine.scenario_version_id == clone.pk and copied.machine.name == "attacker"
    assert copied.file.name != asset.file.name
    with copied.file.open("rb") as fh:
        assert fh.read() == b"hello"
    assert list(clone.asset_links.values_list("asset_id", flat=True)) == [library.pk]


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishes_leave_one_published_version():
    admin = AdminFactory()
    first = published_version(admin=admin)
    owner = first.scenario.created_by_user
    candidates = []
    for _ in range(2):
        version = services.scenario_version_new(source=first, actor=owner)
        services.scenario_version_submit(version=version, actor=owner)
        candidates.append(services.scenario_version_approve(version=version, actor=admin))
    barrier = threading.Barrier(2)
    failures = []

    def publish(version):
        try:
            barrier.wait()
            services.scenario_version_publish(version=version, actor=admin)
        except Exception as exc:  # Collected and asserted below; a thread cannot fail the test itself.
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(v,)) for v in candidates]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    statuses = sorted(ScenarioVersion.objects.filter(scenario=first.scenario).values_list("status", flat=True))
    assert statuses == ["ARCHIVED", "ARCHIVED", "PUBLISHED"]
