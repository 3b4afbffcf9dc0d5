"""The asset-storage health check against moto's standalone S3 server on 127.0.0.1 (tests/plugins/s3.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.factories import CreatorFactory
from apps.ops.health import _storage_check
from apps.ops.healthz import health_report
from apps.scenarios import library
from apps.scenarios.models import Asset
from rangex.core.errors import ServiceUnavailable
from rangex.core.system import invalidate_settings_cache, system_settings_update

pytestmark = pytest.mark.django_db


def _upload(user):
    return library.asset_upload(actor=user, upload=SimpleUploadedFile("a.txt", b"abc"))


def test_a_reachable_store_passes(s3_storage):
    check = _storage_check()
    assert check.status == "ok" and s3_storage.bucket_name in check.message
    assert health_report()["checks"]["storage"]["status"] == "ok"


def test_an_unreachable_endpoint_is_a_clear_error_and_a_failed_health_check(s3_storage):
    system_settings_update(actor=None, minio_port=1)
    invalidate_settings_cache()
    with pytest.raises(ServiceUnavailable, match="could not be reached"):
        _upload(CreatorFactory())
    assert not Asset.objects.exists()
    check = _storage_check()
    assert check.status == "failed" and "127.0.0.1:1" in check.message
    assert health_report()["checks"]["storage"]["status"] == "fail"
