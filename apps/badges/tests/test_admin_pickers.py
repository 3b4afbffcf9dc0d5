"""Admin friction (issue 26): scenarios and events picked by name, choices for category and difficulty,
requirement rows that show only their type's fields, new path rows ordered last."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from apps.badges.models import Badge, BadgeRequirement
from apps.paths.models import CareerPath
from apps.scenarios.factories import published_version

pytestmark = pytest.mark.django_db


def _management(prefix, total=1, initial=0):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def test_a_path_item_is_picked_by_scenario_name_and_new_rows_go_last(admin_client_2fa):
    first = published_version(title="Intro to Recon", slug="intro-recon")
    second = published_version(title="SQL injection", slug="sqli")
    page = admin_client_2fa.get("/admin/paths/careerpath/add/").content.decode()
    assert (
        '<option value="Intro to Recon (intro-recon)">' in page and 'list="id_items-0-scenario_version-choices"' in page
    )
    data = {"title": "Web", "description": "", **_management("items", total=2),
            "items-0-sort_order": "", "items-0-scenario_version": "SQL injection (sqli)",
            "items-1-sort_order": "1", "items-1-scenario_version": "intro-recon"}  # fmt: skip
    response = admin_client_2fa.post("/admin/paths/careerpath/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    path = CareerPath.objects.get(title="Web")
    assert [(i.sort_order, i.scenario_version) for i in path.items.order_by("sort_order")] == [(1, first), (2, second)]
    change = admin_client_2fa.get(f"/admin/paths/careerpath/{path.pk}/change/").content.decode()
    assert 'value="Intro to Recon (intro-recon)"' in change

    data["items-0-scenario_version"] = "No such lab"
    data["title"] = "Broken"
    response = admin_client_2fa.post("/admin/paths/careerpath/add/", data)
    assert "No published scenario is called “No such lab”." in response.content.decode()


def test_badge_requirements_pick_by_name_with_choices_and_show_only_their_fields(admin_client_2fa):
    version = published_version(title="Port scan", slug="port-scan", category="network")
    page = admin_client_2fa.get("/admin/badges/badge/add/").content.decode()
    assert '<option value="network">network</option>' in page
    assert '<option value="expert">Expert</option>' in page
    assert "js/admin_badge_requirements.js" in page
    data = {"name": "Scanner", "description": "d", "criteria": "c", **_management("requirements"),
            "requirements-0-requirement_type": "complete_scenario",
            "requirements-0-scenario": "Port scan (port-scan)"}  # fmt: skip
    response = admin_client_2fa.post("/admin/badges/badge/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Badge.objects.get(name="Scanner").requirements.get().scenario == version
    data = {"name": "Networker", "description": "d", "criteria": "c", **_management("requirements"),
            "requirements-0-requirement_type": "complete_count", "requirements-0-count": "2",
            "requirements-0-category": "network", "requirements-0-difficulty": "beginner"}  # fmt: skip
    assert admin_client_2fa.post("/admin/badges/badge/add/", data).status_code == 302
    requirement = BadgeRequirement.objects.get(badge__name="Networker")
    assert (requirement.category, requirement.difficulty, requirement.count) == ("network", "beginner", 2)


def test_the_requirement_script_knows_the_same_fields_per_type_as_the_model():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "admin_badge_requirements.js").read_text()
    mapping = json.loads(re.search(r"const FIELDS_BY_TYPE = (\{.*?\});", script, re.S).group(1))
    assert {k: set(v) for k, v in mapping.items()} == {str(k): v for k, v in BadgeRequirement.FIELDS_BY_TYPE.items()}
