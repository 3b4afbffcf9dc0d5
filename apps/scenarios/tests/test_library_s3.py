"""The asset library on S3, against moto's standalone server on 127.0.0.1 (``tests/plugins/s3.py``)."""

import urllib.request
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.factories import CreatorFactory, UserFactory, login_client
from apps.scenarios import library, services
from apps.scenarios.factories import draft_version
from apps.scenarios.models import Asset
from rangex.core.errors import ServiceUnavailable
from rangex.core.storage import PRESIGNED_SECONDS, storage_health
from rangex.core.system import invalidate_settings_cache, system_settings_update

pytestmark = pytest.mark.django_db

CONTENT = b"GET /admin HTTP/1.1\r\n"


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the loopback moto server
        return response.read()


def _upload(user, name="login.har", content=CONTENT):
    return library.asset_upload(actor=user, upload=SimpleUploadedFile(name, content))


def test_upload_download_and_delete_on_s3(s3_storage):
    creator = CreatorFactory()
    asset = _upload(creator)
    assert asset.asset_location == "minio" and asset.minio_path == asset.storage_key
    assert s3_storage.exists(asset.storage_key) and library.asset_read(asset) == CONTENT
    ok, detail = storage_health()
    assert ok and s3_storage.bucket_name in detail

    version = draft_version(creator=creator)
    link = library.asset_attach(version=version, asset=asset, actor=creator)
    admin = version.scenario.created_by_user  # the owner is staff of the version
    response = login_client(admin).get(f"/scenarios/downloads/library/{link.pk}/")
    # On S3 the view answers with a short-lived signed URL, never the bytes or a public link.
    assert response.status_code == 302
    url = response["Location"]
    query = parse_qs(urlparse(url).query)
    assert url.startswith("http://127.0.0.1:") and query["X-Amz-Expires"] == ["300"] and "X-Amz-Signature" in query
    assert "login.har" in query["response-content-disposition"][0]
    assert _get(url) == CONTENT
    # A solver of an unpublished version gets nothing.
    assert login_client(UserFactory()).get(f"/scenarios/downloads/library/{link.pk}/").status_code == 404

    library.asset_delete(asset=asset, actor=creator)
    asset.refresh_from_db()
    assert asset.deleted_from_minio and not s3_storage.exists(asset.storage_key)
    assert not library.asset_search().filter(pk=asset.pk).exists()


def test_a_presigned_url_is_signed_for_a_short_lifetime(s3_storage):
    # moto 5.2.5 does not refuse an expired signed URL (a 1-second URL still answered after 2.5 s),
    # so the lifetime is checked where it is decided: in the signed query of the URL handed out.
    asset = _upload(CreatorFactory())
    before = datetime.now(UTC).replace(microsecond=0)
    url = s3_storage.url(asset.storage_key)
    query = parse_qs(urlparse(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert int(query["X-Amz-Expires"][0]) == PRESIGNED_SECONDS == 300
    assert signed_at >= before - timedelta(seconds=1)
    assert _get(url) == CONTENT
    # Tampering with the lifetime breaks the signature only where the store checks signatures;
    # the URL itself carries no credentials beyond the access key id.
    assert "testing" not in query.get("X-Amz-Signature", [""])[0]


def test_a_failed_upload_leaves_no_row(s3_storage):
    system_settings_update(actor=None, minio_bucket="no-such-bucket-here")
    invalidate_settings_cache()
    with pytest.raises(ServiceUnavailable, match=r"Object storage at http://127\.0\.0\.1:"):
        _upload(CreatorFactory())
    assert not Asset.objects.exists()


def test_version_files_still_follow_the_platform_storage(s3_storage):
    # Only library assets follow storage_driver; version files keep the platform's default storage.
    version = draft_version()
    from apps.scenarios.models import ScenarioAsset

    saved = services.scenario_version_component_save(
        version=version,
        actor=version.scenario.created_by_user,
        obj=ScenarioAsset(file=SimpleUploadedFile("a.txt", b"x"), asset_type="download"),
    )
    assert saved.asset_location == "local"
