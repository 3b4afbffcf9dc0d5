"""An S3 endpoint for tests: moto's standalone server on a free loopback port, over real HTTP.

``s3_server`` is the one server ``tests.plugins.moto_server`` starts per test session;
``s3_storage`` points the system settings' object-storage fields at it with a fresh bucket.
"""

from __future__ import annotations

import uuid

import pytest


@pytest.fixture(scope="session")
def s3_server(moto_server):
    """The endpoint URL of moto's standalone server (``tests.plugins.moto_server``), as S3."""
    return moto_server


@pytest.fixture
def s3_storage(s3_server, db):
    """Select object storage in the system settings, pointed at the moto server with a new bucket."""
    from rangex.core.storage import asset_storage
    from rangex.core.system import invalidate_settings_cache, system_settings_update

    bucket = f"rangex-test-{uuid.uuid4().hex[:12]}"
    host, port = s3_server.removeprefix("http://").split(":")
    system_settings_update(
        actor=None,
        storage_driver="minio",
        minio_endpoint=host,
        minio_port=int(port),
        minio_use_ssl=False,
        minio_access_key="testing",
        minio_secret_key="testing",
        minio_bucket=bucket,
    )
    invalidate_settings_cache()
    storage = asset_storage()
    storage.connection.meta.client.create_bucket(Bucket=bucket)
    return storage
