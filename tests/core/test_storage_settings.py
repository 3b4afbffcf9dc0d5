"""Every storage and access setting changes what RangeX does; decorative ones are gone from the form."""

import pytest

from rangex.core.storage import asset_storage, object_storage_selected
from rangex.core.system import invalidate_settings_cache, system_settings_update

pytestmark = pytest.mark.django_db


def _set(**values):
    system_settings_update(actor=None, **values)
    invalidate_settings_cache()


def test_the_minio_settings_make_up_the_object_store_client():
    _set(storage_driver="local")
    assert not object_storage_selected()
    assert type(asset_storage()).__name__ == "FileSystemStorage"
    _set(
        storage_driver="minio",
        minio_endpoint="minio.internal",
        minio_port=9000,
        minio_use_ssl=True,
        minio_access_key="AKIA-ONE",
        minio_secret_key="secret-one",
        minio_bucket="labs",
    )
    storage = asset_storage()
    assert storage.endpoint_url == "https://minio.internal:9000" and storage.bucket_name == "labs"
    assert storage.access_key == "AKIA-ONE" and storage.secret_key == "secret-one"
    _set(minio_use_ssl=False, minio_port=None, minio_access_key="AKIA-TWO", minio_bucket="other")
    storage = asset_storage()
    assert storage.endpoint_url == "http://minio.internal" and storage.bucket_name == "other"
    assert storage.access_key == "AKIA-TWO"


def test_object_storage_without_a_bucket_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("AWS_STORAGE_BUCKET_NAME", raising=False)
    _set(storage_driver="s3", minio_bucket="")
    from rangex.core.errors import ServiceUnavailable

    with pytest.raises(ServiceUnavailable, match="no bucket"):
        asset_storage()


def test_decorative_settings_are_not_in_the_admin_form(admin_client_2fa):
    from rangex.core.models import SystemSettings
    from rangex.core.system import system_settings_update

    # The row may be missing (a transactional test flushed the database): an update creates it.
    system_settings_update(actor=None)
    page = admin_client_2fa.get(f"/admin/core/systemsettings/{SystemSettings.SINGLETON_ID}/change/").content.decode()
    assert 'name="use_local_docker"' not in page and 'name="enable_prometheus_metrics"' not in page
    for used in ("storage_driver", "minio_bucket", "max_total_storage_bytes", "allow_all_scenarios"):
        assert f'name="{used}"' in page
