"""The image pipeline on the real engine and real registries: build, staging, review, production."""

from __future__ import annotations

import base64
import io
import json
import urllib.request
import uuid

import pytest
from django.core.files.base import ContentFile

from apps.accounts.factories import AdminFactory
from apps.environments import services as env_services
from apps.environments.models import SessionStatus
from apps.images import pipeline
from apps.images.models import DockerImage, ImagePipelineStage, RegistryCredential
from apps.runtime.images import get_image_engine
from apps.scenarios.factories import draft_version
from apps.scenarios.image_builds import context_tar, machine_built_image, version_images_build
from apps.scenarios.models import Machine, Tool
from apps.scenarios.tools import machine_tools_set
from rangex.core.errors import InvalidTransition, PermissionDenied
from rangex.core.models import AuditLog

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.docker, pytest.mark.usefixtures("publish_gate_off")]
Status, Stage = ImagePipelineStage.Status, ImagePipelineStage.Stage


def _manifest_status(registry: str, repository: str, tag: str, auth: tuple[str, str]) -> int:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}",
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode(),
            "Accept": "application/vnd.docker.distribution.manifest.v2+json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (http://127.0.0.1 only)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _hello_tool() -> Tool:
    # A busybox-only install: a script copied into place, as fast as a build step gets.
    return Tool.objects.create(
        name=f"hello-{uuid.uuid4().hex[:6]}",
        version="1.0",
        install_command="mkdir -p /opt/tools && printf '#!/bin/sh\\necho hello from the tool\\n' > /opt/tools/hello "
        "&& chmod 755 /opt/tools/hello",
    )


def _built_version(*, marker: str, tool: Tool | None = None):
    web = {"name": "web", "image_source_type": "custom", "image_ref": "rangex/busybox:latest"}
    version = draft_version(machines=[web])
    machine = Machine.objects.get(scenario_version=version, name="web")
    context = {
        "Dockerfile": b"FROM rangex/busybox:latest\nCOPY motd.txt /srv/motd.txt\n",
        "motd.txt": f"built from the version's sources {marker}\n".encode(),
    }
    data = context_tar(context)
    machine.build_context.save(f"{marker}.tar", ContentFile(data), save=False)
    machine.build_context_hash = pipeline.content_tag(data)
    actor = version.scenario.created_by_user
    machine_tools_set(machine=machine, tools=[tool] if tool else [], actor=actor)
    return version, machine


def test_a_context_is_built_pushed_to_staging_approved_and_pushed_to_production(
    image_registries, pipeline_instance, django_capture_on_commit_callbacks
):
    tool = _hello_tool()
    version, machine = _built_version(marker=uuid.uuid4().hex, tool=tool)
    creator = version.scenario.created_by_user
    with django_capture_on_commit_callbacks(execute=True):
        (stage,) = version_images_build(version=version, actor=creator)
    stage.refresh_from_db()
    assert stage.status == Status.AWAITING_APPROVAL, stage.error_message
    assert stage.current_stage == Stage.IN_REVIEW
    assert stage.local_built_at and stage.staging_uploaded_at and stage.review_started_at
    assert "COPY motd.txt" in stage.log and "RUN mkdir -p /opt/tools" in stage.log
    staging_ref, _, digest = stage.staging_minio_path.partition("@")
    assert staging_ref == f"{image_registries.staging}/rangex-staging/built:{stage.image_tag}"
    assert digest.startswith("sha256:")
    auth = (image_registries.username, image_registries.password)
    assert _manifest_status(image_registries.staging, "rangex-staging/built", stage.image_tag, auth) == 200
    assert _manifest_status(image_registries.production, "rangex/built", stage.image_tag, auth) == 404
    engine = get_image_engine()
    info = engine.inspect(stage.local_ref)
    assert info.labels["rangex.managed-image"] == pipeline_instance
    assert info.labels["rangex.tools"] == tool.name

    with pytest.raises(PermissionDenied):
        pipeline.image_pipeline_approve(stage=stage, actor=creator)
    admin = AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.DONE, stage.error_message
    assert stage.current_stage == Stage.PRODUCTION_DEPLOYED
    assert stage.approver_user == admin and stage.approved_at and stage.production_deployed_at
    assert stage.ecr_repository == f"{image_registries.production}/rangex/built"
    assert stage.ecr_image_digest == digest  # the same manifest in both registries
    assert _manifest_status(image_registries.production, "rangex/built", stage.image_tag, auth) == 200
    assert AuditLog.objects.filter(action_type="image_pipeline.approve", user=admin).exists()
    with pytest.raises(InvalidTransition):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    # The catalogue follows: the local build and the production copy, with size and digest.
    production = DockerImage.objects.get(name=stage.ecr_repository, tag=stage.image_tag)
    assert production.ecr_image_digest == digest and production.image_size_mb >= 1
    assert DockerImage.objects.filter(name="rangex/built", tag=stage.image_tag).exists()
    # Launches use production's copy.
    assert machine_built_image(machine) == f"{stage.ecr_repository}:{stage.image_tag}"

    # An unchanged context is never rebuilt, not even for a new version.
    log = stage.log
    with django_capture_on_commit_callbacks(execute=True):
        (again,) = version_images_build(version=version, actor=creator)
    again.refresh_from_db()
    assert again.pk == stage.pk and again.log == log and again.status == Status.DONE
    assert ImagePipelineStage.objects.count() == 1


def test_the_lab_runs_the_built_image_with_its_tools_pulled_from_production(
    image_registries, pipeline_instance, runtime, cleanup_sessions, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_RUNTIMES = {}
    from apps.accounts.factories import UserFactory
    from apps.scenarios import services as scenario_services

    tool = _hello_tool()
    version, _ = _built_version(marker=uuid.uuid4().hex, tool=tool)
    creator, admin = version.scenario.created_by_user, AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        (stage,) = version_images_build(version=version, actor=creator)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.DONE, stage.error_message
    ref = f"{stage.ecr_repository}:{stage.image_tag}"
    engine = get_image_engine()
    engine.remove(engine.inspect(ref), refs=[ref])  # the launch must pull it from production
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    version = scenario_services.scenario_version_publish(version=version, actor=admin)
    with django_capture_on_commit_callbacks(execute=True):
        session = env_services.env_session_start(user=UserFactory(), version=version)
    session.refresh_from_db()
    cleanup_sessions.append(session.pk)
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    out = runtime.run_command(str(session.pk), "web", ["/opt/tools/hello"]).output.decode()
    assert "hello from the tool" in out
    motd = runtime.run_command(str(session.pk), "web", ["cat", "/srv/motd.txt"]).output.decode()
    assert "built from the version's sources" in motd
    pulled = DockerImage.objects.get(name=stage.ecr_repository, tag=stage.image_tag)
    assert pulled.pull_count == 1 and pulled.last_pulled_at is not None


def test_a_failing_build_is_recorded_and_a_new_request_starts_it_over(
    pipeline_instance, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_IMAGE_STAGING_REPOSITORY = settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = ""
    context = context_tar({"Dockerfile": f"FROM rangex/busybox:latest\nRUN exit 7 # {uuid.uuid4().hex}\n".encode()})
    admin = AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        stage = pipeline.image_pipeline_request(context=context, actor=admin, machine_name="web")
    stage.refresh_from_db()
    assert stage.status == Status.FAILED and stage.current_stage == Stage.FAILED
    assert "returned a non-zero code: 7" in stage.error_message
    with django_capture_on_commit_callbacks(execute=True):
        again = pipeline.image_pipeline_request(context=context, actor=admin, machine_name="web")
    assert again.pk == stage.pk
    assert AuditLog.objects.filter(action_type="image_pipeline.retry").count() == 1


def test_without_registries_the_image_stays_on_this_engine(
    pipeline_instance, settings, django_capture_on_commit_callbacks
):
    settings.RANGEX_IMAGE_STAGING_REPOSITORY = settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = ""
    context = context_tar({"Dockerfile": f"FROM rangex/busybox:latest\nLABEL run={uuid.uuid4().hex}\n".encode()})
    admin = AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        stage = pipeline.image_pipeline_request(context=context, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.AWAITING_APPROVAL
    assert "no staging repository is configured" in stage.log
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.DONE and pipeline.launch_ref(stage) == stage.local_ref


def test_prune_removes_only_unused_images_this_install_built(pipeline_instance, test_image, capsys):
    from django.core.management import call_command

    from apps.images.catalog import docker_image_sync

    engine = get_image_engine()
    unused = f"rangex/built:prune-{uuid.uuid4().hex[:8]}"
    engine.build(context_tar({"Dockerfile": f"FROM rangex/busybox:latest\nLABEL x={unused}\n".encode()}), ref=unused)
    docker_image_sync(ref=unused, info=engine.inspect(unused), built=True)
    foreign = f"rangex-foreign/kept:{uuid.uuid4().hex[:8]}"
    engine.tag("rangex/busybox:latest", foreign)  # not labelled: an operator's own image
    try:
        out = io.StringIO()
        call_command("prune_images", "--dry-run", stdout=out)
        assert f"would remove: {unused}" in out.getvalue()
        assert "rangex-foreign" not in out.getvalue()
        assert engine.inspect(unused) is not None
        out = io.StringIO()
        call_command("prune_images", stdout=out)
        assert f"removed: {unused}" in out.getvalue()
        assert engine.inspect(unused) is None
        assert not DockerImage.objects.filter(name="rangex/built", tag=unused.split(":")[1]).exists()
        assert engine.inspect(foreign) is not None
        assert AuditLog.objects.filter(action_type="dockerimage.prune").exists()
    finally:
        engine.api.remove_image(foreign)


def test_prune_keeps_an_image_a_version_uses(pipeline_instance, settings, django_capture_on_commit_callbacks):
    from apps.images.catalog import docker_images_prune

    settings.RANGEX_IMAGE_STAGING_REPOSITORY = settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = ""
    version, machine = _built_version(marker=uuid.uuid4().hex)
    with django_capture_on_commit_callbacks(execute=True):
        (stage,) = version_images_build(version=version, actor=version.scenario.created_by_user)
    report = docker_images_prune(dry_run=True)
    assert stage.local_ref not in report.removed
    assert "used by" in report.kept[stage.local_ref] and machine.name in report.kept[stage.local_ref]
    json.dumps(report.kept)


def test_the_operator_command_builds_a_versions_images_and_waits(
    pipeline_instance, settings, django_capture_on_commit_callbacks
):
    from django.core.management import call_command

    settings.RANGEX_IMAGE_STAGING_REPOSITORY = settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = ""
    version, _ = _built_version(marker=uuid.uuid4().hex, tool=_hello_tool())
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("build_scenario_images", version.scenario.slug, "--no-wait", stdout=out)
    call_command("build_scenario_images", version.scenario.slug, stdout=out)
    assert out.getvalue().count("web: rangex/built:") == 2
    assert "Waiting for an admin's approval" in out.getvalue()
    assert ImagePipelineStage.objects.count() == 1


def test_a_lab_waits_for_the_approved_image_and_says_why(
    pipeline_instance, settings, django_capture_on_commit_callbacks
):
    from apps.accounts.factories import UserFactory
    from apps.runtime.fake import FakeRuntime
    from apps.scenarios import services as scenario_services

    FakeRuntime.reset_all()
    settings.RANGEX_RUNTIMES = {"fake": {"BACKEND": "apps.runtime.fake.FakeRuntime"}}
    settings.RANGEX_DEFAULT_RUNTIME = "fake"
    settings.RANGEX_IMAGE_STAGING_REPOSITORY = settings.RANGEX_IMAGE_PRODUCTION_REPOSITORY = ""
    version, _ = _built_version(marker=uuid.uuid4().hex, tool=_hello_tool())
    creator, admin = version.scenario.created_by_user, AdminFactory()
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    version = scenario_services.scenario_version_publish(version=version, actor=admin)

    def start():
        with django_capture_on_commit_callbacks(execute=True):
            session = env_services.env_session_start(user=UserFactory(), version=version)
        session.refresh_from_db()
        return session

    session = start()
    assert session.status == SessionStatus.FAILED
    assert "image of machine web has not been built yet" in session.reason_stopped
    with django_capture_on_commit_callbacks(execute=True):
        (stage,) = version_images_build(version=version, actor=admin)
    session = start()
    assert session.status == SessionStatus.FAILED
    assert "not in production yet: waiting for an admin's approval" in session.reason_stopped
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    session = start()
    assert session.status == SessionStatus.RUNNING, session.reason_stopped
    FakeRuntime.reset_all()


def test_a_failed_push_to_production_is_recorded_and_retried_after_approval(
    image_registries, pipeline_instance, django_capture_on_commit_callbacks
):
    version, _ = _built_version(marker=uuid.uuid4().hex)
    admin = AdminFactory()
    with django_capture_on_commit_callbacks(execute=True):
        (stage,) = version_images_build(version=version, actor=admin)
    # Production's login is switched off: the registry refuses the push.
    RegistryCredential.objects.filter(label="production").update(is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_approve(stage=stage, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.FAILED and stage.approved_at is not None
    assert stage.production_deployed_at is None and "refused the credentials" in stage.error_message
    RegistryCredential.objects.filter(label="production").update(is_active=True)
    with django_capture_on_commit_callbacks(execute=True):
        pipeline.image_pipeline_retry(stage=stage, actor=admin)
    stage.refresh_from_db()
    assert stage.status == Status.DONE, stage.error_message
    assert stage.ecr_repository == f"{image_registries.production}/rangex/built"
