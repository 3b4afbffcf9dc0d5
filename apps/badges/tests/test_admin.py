import pytest

from apps.badges.models import Badge, BadgeRequirement
from apps.paths.models import CareerPath
from apps.scenarios.factories import draft_version, published_version

pytestmark = pytest.mark.django_db

INLINE = "requirements"


def _management(prefix, total=1):
    return {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip


def test_admin_defines_a_badge_with_a_requirement(admin_client_2fa):
    v = published_version()
    data = {"name": "First steps", "description": "d", "criteria": "Complete it", **_management(INLINE),
            f"{INLINE}-0-requirement_type": "complete_scenario", f"{INLINE}-0-scenario": str(v.pk)}  # fmt: skip
    response = admin_client_2fa.post("/admin/badges/badge/add/", data)
    assert response.status_code == 302, response.content[:2000]
    badge = Badge.objects.get(name="First steps")
    assert badge.requirements.get().scenario == v


def test_admin_refuses_a_requirement_missing_its_fields(admin_client_2fa):
    data = {"name": "Broken", **_management(INLINE), f"{INLINE}-0-requirement_type": "complete_count"}
    response = admin_client_2fa.post("/admin/badges/badge/add/", data)
    assert response.status_code == 200
    assert "needs count" in response.content.decode()
    assert not Badge.objects.filter(name="Broken").exists()
    assert not BadgeRequirement.objects.exists()


def test_admin_curates_a_public_path_and_refuses_unpublished_items(admin_client_2fa):
    good, draft = published_version(), draft_version()
    prefix = "items"
    data = {"title": "Web", "description": "", "is_public": "on", **_management(prefix),
            f"{prefix}-0-sort_order": "1", f"{prefix}-0-scenario_version": str(draft.pk)}  # fmt: skip
    admin_client_2fa.post("/admin/paths/careerpath/add/", data)
    assert not CareerPath.objects.filter(title="Web").exists()
    data[f"{prefix}-0-scenario_version"] = str(good.pk)
    response = admin_client_2fa.post("/admin/paths/careerpath/add/", data)
    assert response.status_code == 302
    path = CareerPath.objects.get(title="Web")
    assert path.is_public and path.items.get().scenario_version == good
