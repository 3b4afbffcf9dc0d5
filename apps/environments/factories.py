"""Factories for environment tests (in any app): a published pivot-topology version on the busybox test image,
and a one-desktop version on the local desktop image."""

from __future__ import annotations

import time
from types import SimpleNamespace

from django.core.management import call_command

from apps.accounts.factories import AdminFactory, CreatorFactory
from apps.environments import services
from apps.images.factories import image_variant
from apps.runtime import get_runtime
from apps.scenarios import services as scenario_services
from apps.scenarios.factories import passing_test_run, published_version

TEST_IMAGE = "rangex/busybox:latest"
STATIC_FLAG = "RX{static-flag}"

PIVOT_QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "The static flag?",
        "points": 10,
        "max_attempts": 3,
        "answer": STATIC_FLAG,
        "match": "exact",
    },
    {
        "id": "q2",
        "type": "flag",
        "prompt": "The flag on the inner victim?",
        "points": 20,
        "max_attempts": None,
        "answer": "",
        "match": "exact",
        "dynamic": True,
        "flag_machine": "victim",
        "flag_path": "/srv/flag.txt",
    },
    {
        "id": "q3",
        "type": "single_choice",
        "prompt": "Which host bridges the networks?",
        "points": 5,
        "max_attempts": 1,
        "options": ["attacker", "pivot", "victim"],
        "correct": [1],
    },
]
PIVOT_HINTS = [{"id": "h1", "question_id": "q1", "text": "It is in the mission.", "cost": 4}]


def finished_session(*, user, version):
    """Return a terminated session of ``version`` for ``user``, reached through the services without containers.

    The session is marked running with an empty runtime result, stopped, and torn down (the runtime
    has nothing of it to remove).
    """
    session = services.env_session_start(user=user, version=version)
    session = services.env_session_mark_running(session=session, result=SimpleNamespace(machines={}, networks={}))
    services.env_session_stop(session=session, actor=user)
    return services.env_session_teardown(session_id=session.pk)


def ensure_test_image() -> None:
    if not get_runtime().image_present(TEST_IMAGE):
        call_command("build_images", "--set", "test")


def pivot_version(*, creator=None, admin=None, max_players=None, **fields):
    """Return a published 3-machine, 2-network version: attacker (dmz) - pivot (dmz+internal) - victim (internal)."""
    creator = creator or CreatorFactory()
    admin = admin or AdminFactory()
    variant = image_variant(image_ref=TEST_IMAGE, display_name=f"Busybox {time.monotonic_ns()}")
    values = {
        "slug": f"pivot-{time.monotonic_ns()}",
        "title": "Pivot test",
        "short_description": "Three machines, two networks.",
        "category": "network",
        "mission_text": f"The static flag is {STATIC_FLAG}.",
        "questions": PIVOT_QUESTIONS,
        "hints": PIVOT_HINTS,
        "hint_mode": "penalty",
        "estimated_minutes": 30,
        **fields,
    }
    version = scenario_services.scenario_create(actor=creator, **values)
    common = {"image_source_type": "variant", "image_variant": variant, "resource_profile": "micro"}
    scenario_services.machine_add(
        version=version,
        actor=creator,
        name="attacker",
        role="attacker",
        network_group="dmz",
        allow_solver_entry=True,
        **common,
    )
    scenario_services.machine_add(
        version=version,
        actor=creator,
        name="pivot",
        role="service",
        network_group="dmz",
        is_pivot_host=True,
        allow_solver_entry=True,
        **common,
    )
    scenario_services.machine_add(
        version=version, actor=creator, name="victim", role="victim", network_group="internal", **common
    )
    scenario_services.pivot_point_add(version=version, actor=creator, source="dmz", target="internal")
    if max_players is not None:
        from apps.scenarios.models import ScenarioLimit

        ScenarioLimit.objects.create(scenario=version.scenario, max_concurrent_players=max_players)
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    passing_test_run(version)
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    return scenario_services.scenario_version_publish(version=version, actor=admin)


QUIZ_QUESTIONS = [
    {
        "id": "q1",
        "type": "flag",
        "prompt": "The flag?",
        "points": 50,
        "max_attempts": 2,
        "flags": [{"type": "static", "content": "RX{quiz}", "case_insensitive": False}],
    },
    {
        "id": "q2",
        "type": "single_choice",
        "prompt": "Which port is SSH?",
        "points": 10,
        "max_attempts": 1,
        "options": ["21", "22", "80"],
        "correct": [1],
    },
]
QUIZ_HINTS = [{"id": "h1", "question_id": "q1", "text": "It starts with RX.", "cost": 5}]


def quiz_version(**fields):
    """Return a published question-only version (no machines): answered from its page without a lab."""
    values = {
        "machines": [],
        "requires_machines": False,
        "questions": [dict(q) for q in QUIZ_QUESTIONS],
        "hints": [dict(h) for h in QUIZ_HINTS],
        "hint_mode": "penalty",
        **fields,
    }
    return published_version(**values)


def ensure_desktop_image() -> str:
    """Return the content-tagged desktop image, built first when missing (several minutes, once)."""
    from apps.images.management.commands.build_images import desktop_ref

    ref = desktop_ref()
    if not get_runtime().image_present(ref):
        call_command("build_images", "--set", "desktop")
    return ref


def desktop_version(*, creator=None, admin=None, **fields):
    """Return a published version with one desktop machine ("desktop") on the local desktop image."""
    creator = creator or CreatorFactory()
    admin = admin or AdminFactory()
    variant = image_variant(
        image_ref=ensure_desktop_image(),
        display_name=f"Desktop {time.monotonic_ns()}",
        has_gui=True,
        allowed_capabilities=["SETUID", "SETGID"],
        terminal_user="player",
        default_healthcheck={"port": 5901, "timeout": 60},
    )
    values = {
        "slug": f"desktop-{time.monotonic_ns()}",
        "title": "Desktop test",
        "short_description": "One desktop machine.",
        "category": "network",
        "mission_text": "Use the desktop.",
        "questions": PIVOT_QUESTIONS[:1],
        "hints": [],
        "estimated_minutes": 30,
        **fields,
    }
    version = scenario_services.scenario_create(actor=creator, **values)
    scenario_services.machine_add(
        version=version,
        actor=creator,
        name="desktop",
        role="attacker",
        network_group="lab",
        allow_solver_entry=True,
        image_source_type="variant",
        image_variant=variant,
        resource_profile="medium",
        run_as_user="root",
    )
    version = scenario_services.scenario_version_submit(version=version, actor=creator)
    passing_test_run(version)
    version = scenario_services.scenario_version_approve(version=version, actor=admin)
    return scenario_services.scenario_version_publish(version=version, actor=admin)
