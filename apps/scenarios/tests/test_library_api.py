"""The asset library over the API: upload with the same checks, attach, detach, delete; downloads in the catalog."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.accounts.factories import AdminFactory, CreatorFactory, UserFactory
from apps.scenarios import services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import Asset, ScenarioAsset
from rangex.core.system import system_settings_update

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("publish_gate_off")]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_upload_attach_detach_and_delete_through_the_api():
    version = draft_version(machines=[{"name": "target"}])
    creator = version.scenario.created_by_user
    api = _client(creator)
    response = api.post(
        "/api/v1/creator/assets/",
        {"file": SimpleUploadedFile("users.txt", b"alice\nbob\n"), "tags": "wordlist"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    asset_id = response.json()["id"]
    assert response.json()["file_name"] == "users.txt" and response.json()["tags"] == ["wordlist"]
    assert [a["id"] for a in api.get("/api/v1/creator/assets/?tag=wordlist").json()["results"]] == [asset_id]

    bad = api.post(
        f"/api/v1/creator/versions/{version.pk}/library-assets/",
        {"asset": asset_id, "asset_type": "machine_file", "target_path": "relative"},
        format="json",
    )
    assert bad.status_code == 400, bad.json()
    assert set(bad.json()["error"]["fields"]) == {"machine", "target_path"}
    machine = version.machines.get()
    attached = api.post(
        f"/api/v1/creator/versions/{version.pk}/library-assets/",
        {"asset": asset_id, "asset_type": "machine_file", "machine": str(machine.pk), "target_path": "/srv/users.txt"},
        format="json",
    )
    assert attached.status_code == 201, attached.content
    # Another creator sees neither the version nor may delete the asset.
    other = _client(CreatorFactory())
    assert other.post(f"/api/v1/creator/versions/{version.pk}/library-assets/", {"asset": asset_id}).status_code == 404
    assert other.delete(f"/api/v1/creator/assets/{asset_id}/").status_code == 403
    link_id = attached.json()["id"]
    assert api.delete(f"/api/v1/creator/versions/{version.pk}/library-assets/{link_id}/").status_code == 204
    assert api.delete(f"/api/v1/creator/assets/{asset_id}/").status_code == 204
    assert not Asset.objects.exists()


def test_the_api_refuses_solvers_and_over_quota_uploads_naming_the_limit():
    solver = _client(UserFactory())
    assert solver.get("/api/v1/creator/assets/").status_code == 403
    upload = {"file": SimpleUploadedFile("a.bin", b"x" * 10)}
    assert solver.post("/api/v1/creator/assets/", upload, format="multipart").status_code == 403
    system_settings_update(actor=None, max_total_storage_bytes=5)
    response = _client(CreatorFactory()).post(
        "/api/v1/creator/assets/", {"file": SimpleUploadedFile("a.bin", b"x" * 10)}, format="multipart"
    )
    assert response.status_code == 400 and "max total storage" in response.json()["error"]["message"]
    assert not Asset.objects.exists()


def test_the_catalog_detail_lists_the_downloads():
    version = draft_version()
    creator = version.scenario.created_by_user
    services.scenario_version_component_save(
        version=version,
        actor=creator,
        obj=ScenarioAsset(file=SimpleUploadedFile("brief.pdf", b"%PDF"), asset_type="download"),
    )
    admin = AdminFactory()
    version = services.scenario_version_submit(version=version, actor=creator)
    version = services.scenario_version_approve(version=version, actor=admin)
    services.scenario_version_publish(version=version, actor=admin)
    body = APIClient().get(f"/api/v1/scenarios/{version.scenario.slug}/").json()
    assert [d["name"] for d in body["downloads"]] == ["brief.pdf"]
    assert body["downloads"][0]["url"].startswith("/scenarios/downloads/file/")
