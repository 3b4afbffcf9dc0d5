"""Prerequisites inside a path: locked items say what unlocks them; cycles are refused when saved."""

from __future__ import annotations

import pytest

from apps.accounts.factories import AdminFactory, UserFactory, login_client
from apps.paths import selectors
from apps.paths.factories import career_path, completed_session_row
from apps.paths.prerequisites import career_path_item_requires_set
from apps.scenarios.factories import published_version
from rangex.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def _path():
    admin = AdminFactory()
    versions = [published_version(title=t) for t in ("Recon", "Exploit", "Report")]
    path = career_path(admin=admin, versions=versions, title="Red team")
    return admin, versions, path, list(path.items.order_by("sort_order"))


def test_a_locked_item_names_what_unlocks_it_and_is_not_the_next_item():
    admin, versions, path, (recon, exploit, report) = _path()
    career_path_item_requires_set(item=report, requires=[recon, exploit], actor=admin)
    career_path_item_requires_set(item=exploit, requires=[recon], actor=admin)
    learner = UserFactory()
    page = login_client(learner).get(f"/paths/{path.pk}/").content.decode()
    assert "Locked: complete Recon and Exploit first." in page and "Locked: complete Recon first." in page

    completed_session_row(user=learner, version=versions[0])
    loaded = selectors.career_path_get_for_user(user=learner, pk=path.pk)
    progress = selectors.progress_for_many(user=learner, containers=[loaded])[path.pk]
    assert [i.locked for i in progress.items] == [False, False, True]
    assert progress.next_item.pk == exploit.pk
    assert [r.pk for r in progress.items[2].locked_by] == [exploit.pk]


def test_cycles_self_requirements_and_other_paths_items_are_refused():
    admin, _versions, _path_row, (recon, exploit, report) = _path()
    career_path_item_requires_set(item=exploit, requires=[recon], actor=admin)
    career_path_item_requires_set(item=report, requires=[exploit], actor=admin)
    with pytest.raises(ValidationFailed, match="cycle nobody could finish: Recon → Report → Exploit → Recon"):
        career_path_item_requires_set(item=recon, requires=[report], actor=admin)
    assert list(recon.requires.all()) == []
    with pytest.raises(ValidationFailed, match="cannot require itself"):
        career_path_item_requires_set(item=recon, requires=[recon], actor=admin)
    _admin2, _v2, _p2, (elsewhere, *_rest) = _path()
    with pytest.raises(ValidationFailed, match="not an item of this path"):
        career_path_item_requires_set(item=recon, requires=[elsewhere], actor=admin)
    with pytest.raises(PermissionDenied):
        career_path_item_requires_set(item=recon, requires=[], actor=UserFactory())


def test_the_admin_saves_requirements_and_refuses_a_cycle(admin_client_2fa, admin_user):
    versions = [published_version(title=t) for t in ("Recon", "Exploit")]
    path = career_path(admin=admin_user, versions=versions, title="Red team")
    recon, exploit = path.items.order_by("sort_order")
    base = {"title": "Red team", "description": "", "is_public": "on", "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "2", "items-MIN_NUM_FORMS": "0", "items-MAX_NUM_FORMS": "1000",
            "items-0-id": str(recon.pk), "items-0-career_path": str(path.pk), "items-0-sort_order": "1",
            "items-0-scenario_version": str(versions[0].pk),
            "items-1-id": str(exploit.pk), "items-1-career_path": str(path.pk), "items-1-sort_order": "2",
            "items-1-scenario_version": str(versions[1].pk), "items-1-requires": [str(recon.pk)]}  # fmt: skip
    url = f"/admin/paths/careerpath/{path.pk}/change/"
    response = admin_client_2fa.post(url, base)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(exploit.requires.all()) == [recon]
    page = admin_client_2fa.get(url).content.decode()
    assert "1. Recon" in page and "0887" not in page
    response = admin_client_2fa.post(url, {**base, "items-0-requires": [str(exploit.pk)]}, follow=True)
    assert "cycle nobody could finish" in response.content.decode()
    assert list(recon.requires.all()) == []
