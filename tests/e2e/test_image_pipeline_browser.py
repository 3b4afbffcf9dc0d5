"""In a real browser: an admin builds a version's image from its sources, follows the stages, approves
it (pushed to a real production registry), sees which versions use it; a solver's lab runs it with
the catalogue tools listed on the session page."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import expect

from apps.accounts.factories import AdminFactory, UserFactory, enable_2fa
from apps.environments.models import EnvironmentSession
from apps.images.models import ImagePipelineStage
from apps.scenarios import services, tools
from apps.scenarios.factories import draft_version
from apps.scenarios.image_builds import context_tar
from apps.scenarios.models import Machine, Tool

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.browser, pytest.mark.docker, pytest.mark.usefixtures("publish_gate_off")]
SHOTS = "/tmp/pipeline-{}.png"


def _version_with_sources():
    tool = Tool.objects.create(
        name=f"hello-{uuid.uuid4().hex[:4]}",
        install_command="mkdir -p /opt/tools && printf '#!/bin/sh\\necho hello\\n' > /opt/tools/hello",
    )
    web = {"name": "web", "image_source_type": "custom", "image_ref": "rangex/busybox:latest"}
    version = draft_version(machines=[web], title="Built from sources")
    machine = Machine.objects.get(scenario_version=version, name="web")
    data = context_tar(
        {
            "Dockerfile": b"FROM rangex/busybox:latest\nCOPY motd.txt /srv/motd.txt\n",
            "motd.txt": f"run {uuid.uuid4().hex}\n".encode(),
        }
    )
    machine.build_context.save("ctx.tar", ContentFile(data), save=False)
    tools.machine_tools_set(machine=machine, tools=[tool], actor=version.scenario.created_by_user)
    return version, tool


def test_admin_builds_approves_and_a_solver_runs_the_image(
    transactional_db, image_registries, pipeline_instance, cleanup_sessions, live_url, new_page
):
    version, tool = _version_with_sources()
    admin = AdminFactory()
    secret, _ = enable_2fa(admin)
    page = new_page(admin, secret=secret)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{live_url}/admin/scenarios/scenarioversion/")
    page.locator(f'input[name="_selected_action"][value="{version.pk}"]').check()
    page.locator('select[name="action"]').select_option("build_images")
    page.get_by_role("button", name="Go").click()
    expect(page.locator(".messagelist")).to_contain_text("web: waiting to build")
    page.get_by_role("link", name="image pipeline", exact=True).click()
    page.locator("#result_list tbody a").first.click()
    expect(page.locator(".pipeline-stages li.done")).to_have_count(3)
    expect(page.locator(".pipeline-log")).to_contain_text("COPY motd.txt")
    page.screenshot(path=SHOTS.format("in-review"), full_page=True)

    page.get_by_role("button", name="Approve and push to production").click()
    expect(page.locator(".messagelist")).to_contain_text("approved; pushing to production")
    expect(page.locator(".pipeline-stages li.done")).to_have_count(5)
    expect(page.locator("body")).to_contain_text(f"{image_registries.production}/rangex/built")
    page.screenshot(path=SHOTS.format("deployed"), full_page=True)
    stage = ImagePipelineStage.objects.get()
    assert stage.approver_user_id == admin.pk and stage.status == ImagePipelineStage.Status.DONE

    page.goto(f"{live_url}/admin/images/dockerimage/?q={stage.image_tag}")
    page.get_by_role("link", name=f"{image_registries.production}/rangex/built:{stage.image_tag}").click()
    expect(page.locator(".field-used_by")).to_contain_text(f"v{version.version_number} (web)")
    page.screenshot(path=SHOTS.format("catalogue"), full_page=True)

    creator = version.scenario.created_by_user
    version = services.scenario_version_submit(version=version, actor=creator)
    version = services.scenario_version_approve(version=version, actor=admin)
    services.scenario_version_publish(version=version, actor=admin)
    solver = new_page(UserFactory())
    solver.set_viewport_size({"width": 1280, "height": 900})
    solver.goto(f"{live_url}/scenarios/{version.scenario.slug}/")
    solver.get_by_role("button", name="Start lab").click()
    expect(solver).to_have_url(re.compile(r"/labs/|/sessions/|/environments/"))
    session = EnvironmentSession.objects.get(scenario_version=version)
    cleanup_sessions.append(session.pk)
    tools = solver.locator(f'[aria-label="Tools on web"] [data-tool="{tool.name}"]')
    expect(tools).to_be_visible(timeout=60_000)
    solver.screenshot(path=SHOTS.format("session"), full_page=True)
