"""Where library assets are stored: local files or S3/MinIO, as ``SystemSettings.storage_driver`` says.

The object-store settings come from the system settings row (``minio_*``) and, where a field is
empty, from the environment (``AWS_S3_ENDPOINT_URL``, ``AWS_S3_ACCESS_KEY_ID``,
``AWS_S3_SECRET_ACCESS_KEY``, ``AWS_S3_REGION_NAME``, ``AWS_STORAGE_BUCKET_NAME``). django-storages
talks to the store; RangeX never imports boto3 itself.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.utils.translation import gettext as _

from rangex.core.errors import ServiceUnavailable
from rangex.core.system import get_settings

PRESIGNED_SECONDS = 300


def object_storage_selected(conf=None) -> bool:
    conf = conf or get_settings()
    return conf.storage_driver in ("minio", "s3")


def _endpoint_url(conf) -> str | None:
    host = (conf.minio_endpoint or "").strip()
    if not host:
        return os.environ.get("AWS_S3_ENDPOINT_URL") or None
    if "://" in host:
        return host.rstrip("/")
    scheme = "https" if conf.minio_use_ssl else "http"
    return f"{scheme}://{host}" + (f":{conf.minio_port}" if conf.minio_port else "")


def asset_storage(conf=None) -> Storage:
    """Return the storage that new library assets go to."""
    conf = conf or get_settings()
    if not object_storage_selected(conf):
        return FileSystemStorage(location=settings.MEDIA_ROOT)
    from storages.backends.s3 import S3Storage

    bucket = conf.minio_bucket or os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
    if not bucket:
        raise ServiceUnavailable(_("Object storage is selected but no bucket is set (system settings: MinIO bucket)."))
    return S3Storage(
        bucket_name=bucket,
        endpoint_url=_endpoint_url(conf),
        access_key=conf.minio_access_key or os.environ.get("AWS_S3_ACCESS_KEY_ID") or None,
        secret_key=conf.minio_secret_key or os.environ.get("AWS_S3_SECRET_ACCESS_KEY") or None,
        region_name=conf.aws_region or os.environ.get("AWS_S3_REGION_NAME") or "us-east-1",
        default_acl=None,
        querystring_auth=True,
        querystring_expire=PRESIGNED_SECONDS,
        file_overwrite=False,
        addressing_style="path",
        signature_version="s3v4",
    )


def storage_for_location(location: str) -> Storage:
    """The storage an existing asset lives in (``local`` or ``minio``)."""
    if location == "minio":
        conf = get_settings()
        if not object_storage_selected(conf):
            raise ServiceUnavailable(_("This file is in object storage, which is not configured any more."))
        return asset_storage(conf)
    return FileSystemStorage(location=settings.MEDIA_ROOT)


def object_storage_error(exc: Exception) -> ServiceUnavailable:
    endpoint = _endpoint_url(get_settings()) or "the default AWS endpoint"
    return ServiceUnavailable(
        _("Object storage at %(endpoint)s could not be reached or refused the request (%(exc)s).")
        % {"endpoint": endpoint, "exc": exc}
    )


def storage_health() -> tuple[bool, str]:
    """``(ok, detail)`` of the asset store: a bucket lookup on S3/MinIO, a writable folder locally."""
    conf = get_settings()
    if not object_storage_selected(conf):
        ok = os.access(settings.MEDIA_ROOT, os.W_OK) or not os.path.exists(settings.MEDIA_ROOT)
        return ok, f"local files in {settings.MEDIA_ROOT}"
    try:
        storage = asset_storage(conf)
        storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
    except Exception as exc:
        return False, object_storage_error(exc).message
    return True, f"bucket {storage.bucket_name} at {_endpoint_url(conf) or 'AWS'}"
