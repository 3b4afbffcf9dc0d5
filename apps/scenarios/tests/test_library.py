"""The asset library on local storage: upload checks, tags and search, attachments, deletion, downloads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from apps.accounts.factories import AdminFactory, CreatorFactory, UserFactory, login_client
from apps.scenarios import downloads, library, services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import Asset, AssetScenarioVersion, ScenarioAsset
from apps.scenarios.quota import storage_used
from rangex.core.errors import Conflict, PermissionDenied, ValidationFailed
from rangex.core.system import system_settings_update

# Publishing here is not what is tested: the publish gate (issue 16) is off.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("publish_gate_off")]


def _upload(user, name="rockyou-mini.txt", content=b"password\n123456\n", **kw):
    return library.asset_upload(actor=user, upload=SimpleUploadedFile(name, content), **kw)


def _publish(version):
    admin = AdminFactory()
    version = services.scenario_version_submit(version=version, actor=version.scenario.created_by_user)
    version = services.scenario_version_approve(version=version, actor=admin)
    return services.scenario_version_publish(version=version, actor=admin)


def test_an_upload_takes_its_name_size_digest_and_tags_from_the_file():
    creator = CreatorFactory()
    asset = _upload(creator, tags="Wordlist, web ,wordlist")
    assert asset.file_name == "rockyou-mini.txt" and asset.name == "rockyou-mini.txt"
    assert asset.size_bytes == 16 and len(asset.sha256) == 64 and asset.tags == ["wordlist", "web"]
    assert asset.asset_location == "local" and library.asset_read(asset) == b"password\n123456\n"
    assert list(library.asset_search(tag="wordlist")) == [asset]
    assert list(library.asset_search(query="rockyou")) == [asset]
    assert not library.asset_search(tag="pcap").exists()


def test_a_solver_cannot_upload_and_bad_files_are_refused_with_the_limit_named(settings):
    with pytest.raises(PermissionDenied):
        _upload(UserFactory())
    creator = CreatorFactory()
    with pytest.raises(ValidationFailed, match="empty"):
        _upload(creator, content=b"")
    settings.RANGEX_MAX_ASSET_BYTES = 4
    with pytest.raises(ValidationFailed, match=r"at most 0\.0 MB .*RANGEX_MAX_ASSET_BYTES"):
        _upload(creator)
    assert not Asset.objects.exists()


def test_per_creator_and_total_quotas_count_library_and_version_files():
    creator = CreatorFactory()
    system_settings_update(actor=None, max_storage_per_user_bytes=20)
    _upload(creator)  # 16 bytes
    with pytest.raises(ValidationFailed, match="max storage per user"):
        _upload(creator, name="two.txt")
    # A version asset counts against the same quota (the admin/API/import path).
    version = draft_version(creator=creator)
    with pytest.raises(ValidationFailed, match="quota"):
        services.scenario_version_component_save(
            version=version,
            actor=creator,
            obj=ScenarioAsset(file=SimpleUploadedFile("a.txt", b"12345"), asset_type="download"),
        )
    system_settings_update(actor=None, max_storage_per_user_bytes=0, max_total_storage_bytes=30)
    with pytest.raises(ValidationFailed, match="max total storage"):
        _upload(CreatorFactory(), name="three.txt")
    assert storage_used() == 16 and storage_used(owner_id=creator.pk) == 16


def test_attachments_follow_the_machine_file_rules_and_a_new_version_keeps_them():
    version = draft_version(machines=[{"name": "target"}])
    creator = version.scenario.created_by_user
    machine = version.machines.get()
    asset = _upload(creator)
    with pytest.raises(ValidationFailed) as exc:
        library.asset_attach(version=version, asset=asset, actor=creator, asset_type="machine_file", target_path="x")
    assert set(exc.value.fields) == {"machine", "target_path"}
    link = library.asset_attach(
        version=version,
        asset=asset,
        actor=creator,
        asset_type="machine_file",
        machine=machine,
        target_path="/opt/words.txt",
        permissions="0600",
    )
    # Another creator may not attach to this version.
    with pytest.raises(Exception, match="No such scenario version"):
        library.asset_attach(version=version, asset=asset, actor=CreatorFactory())
    clone = services.scenario_version_new(source=version, actor=creator)
    copied = AssetScenarioVersion.objects.get(scenario_version=clone)
    assert copied.asset_id == asset.pk and copied.target_path == "/opt/words.txt" and copied.permissions == "0600"
    assert copied.machine.scenario_version_id == clone.pk and copied.machine.name == "target" and link.pk != copied.pk


def test_an_asset_a_published_version_uses_cannot_be_deleted():
    version = draft_version()
    creator = version.scenario.created_by_user
    used, unused = _upload(creator), _upload(creator, name="spare.txt")
    library.asset_attach(version=version, asset=used, actor=creator)
    _publish(version)
    with pytest.raises(Conflict, match="used by published versions"):
        library.asset_delete(asset=used, actor=creator)
    with pytest.raises(PermissionDenied):
        library.asset_delete(asset=unused, actor=CreatorFactory())
    key = unused.storage_key
    library.asset_delete(asset=unused, actor=creator)
    assert not Asset.objects.filter(pk=unused.pk).exists()
    from rangex.core.storage import asset_storage

    assert not asset_storage().exists(key)


def test_solvers_download_only_downloads_of_versions_they_may_see():
    version = draft_version()
    creator = version.scenario.created_by_user
    handout = _upload(creator, name="capture.pcap", content=b"\xd4\xc3\xb2\xa1data")
    secret = _upload(creator, name="writeup.md", content=b"# the answer")
    link = library.asset_attach(version=version, asset=handout, actor=creator)
    hidden = library.asset_attach(version=version, asset=secret, actor=creator, asset_type="writeup")
    own = services.scenario_version_component_save(
        version=version,
        actor=creator,
        obj=ScenarioAsset(file=SimpleUploadedFile("brief.pdf", b"%PDF-1.4"), asset_type="download"),
    )
    solver = UserFactory()
    client = login_client(solver)
    url = f"/scenarios/downloads/library/{link.pk}/"
    # Not published yet: nobody but staff sees it.
    assert client.get(url).status_code == 404
    assert login_client(creator).get(url).status_code == 200
    _publish(version)
    names = [d.name for d in downloads.solver_downloads(version=version)]
    assert names == ["brief.pdf", "capture.pcap"]
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"\xd4\xc3\xb2\xa1data"
    assert 'filename="capture.pcap"' in response["Content-Disposition"]
    assert client.get(f"/scenarios/downloads/library/{hidden.pk}/").status_code == 404
    assert Client().get(url).status_code == 404
    page = client.get(f"/scenarios/{version.scenario.slug}/").content.decode()
    assert f"/scenarios/downloads/file/{own.pk}/" in page and url in page
    # The admin's link to a version file (its FileField url) is served to staff, not as public media.
    assert own.file.url.startswith("/media/scenario-assets/")
    assert client.get(own.file.url).status_code == 200  # a download of a published version
    admin = AdminFactory()
    staff = login_client(admin)
    assert staff.get(f"/scenarios/library/{secret.pk}/file/").status_code == 200
    assert client.get(f"/scenarios/library/{secret.pk}/file/").status_code == 404
