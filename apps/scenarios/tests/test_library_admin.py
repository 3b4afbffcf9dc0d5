"""The asset library in the admin: an over-limit upload is refused next to its field, a delete a published
version blocks is refused with the reason, and attachments are saved through the library services."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.scenarios import library, services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import Asset
from rangex.core.system import system_settings_update

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("publish_gate_off")]


def test_an_upload_over_the_quota_is_refused_next_to_the_file_field(creator, creator_client):
    system_settings_update(actor=None, max_storage_per_user_bytes=4)
    response = creator_client.post(
        "/admin/scenarios/asset/add/",
        {"upload": SimpleUploadedFile("big.bin", b"0123456789"), "name": "", "description": "kept", "tags_text": "x"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "max storage per user" in html and 'value="kept"' in html
    assert not Asset.objects.exists()
    system_settings_update(actor=None, max_storage_per_user_bytes=0)
    response = creator_client.post(
        "/admin/scenarios/asset/add/",
        {"upload": SimpleUploadedFile("small.bin", b"0123"), "name": "", "description": "", "tags_text": "pcap"},
    )
    assert response.status_code == 302
    asset = Asset.objects.get()
    assert asset.file_name == "small.bin" and asset.created_by_user == creator and asset.tags == ["pcap"]
    page = creator_client.get(f"/admin/scenarios/asset/{asset.pk}/change/").content.decode()
    assert f"/scenarios/library/{asset.pk}/file/" in page
    assert creator_client.get(f"/scenarios/library/{asset.pk}/file/").status_code == 200


def test_deleting_an_asset_a_published_version_uses_is_refused_in_the_admin(creator, creator_client, admin_user):
    version = draft_version(creator=creator)
    asset = library.asset_upload(actor=creator, upload=SimpleUploadedFile("u.txt", b"abc"))
    library.asset_attach(version=version, asset=asset, actor=creator)
    version = services.scenario_version_submit(version=version, actor=creator)
    version = services.scenario_version_approve(version=version, actor=admin_user)
    services.scenario_version_publish(version=version, actor=admin_user)
    response = creator_client.post(f"/admin/scenarios/asset/{asset.pk}/delete/", {"post": "yes"}, follow=True)
    assert "used by published versions" in response.content.decode()
    assert Asset.objects.filter(pk=asset.pk).exists()
