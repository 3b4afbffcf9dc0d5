"""Uploads kept between a failed save and the next one.

A browser cannot fill a file input in again, so when a save of the version page fails, each chosen
file is kept here under an unguessable name and the page carries a signed token for it; the next
save uses the kept file unless another one is chosen. Kept files live outside the media storage
(``VAR_DIR/staging``), are removed once used, and any older than a day is removed whenever a file
is kept.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import FileSystemStorage

SALT = "rangex.scenarios.staged-upload"
MAX_AGE_SECONDS = 24 * 3600


def _storage() -> FileSystemStorage:
    return FileSystemStorage(location=Path(settings.VAR_DIR) / "staging")


def _sweep(storage: FileSystemStorage) -> None:
    root = Path(storage.location)
    if not root.is_dir():
        return
    cutoff = time.time() - MAX_AGE_SECONDS
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            for child in folder.iterdir():
                child.unlink(missing_ok=True)
            folder.rmdir()


def staged_upload_keep(*, upload, user_id) -> str:
    """Keep ``upload`` for the next save of ``user_id`` and return the signed token that names it."""
    storage = _storage()
    _sweep(storage)
    name = Path(upload.name).name or "upload"
    folder = secrets.token_hex(16)
    upload.seek(0)
    stored = storage.save(f"{folder}/{name}", upload)
    return signing.dumps({"path": stored, "user": str(user_id), "name": name}, salt=SALT)


def _payload(token: str, user_id) -> dict | None:
    try:
        payload = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    except signing.BadSignature:
        return None
    if payload.get("user") != str(user_id):
        return None
    return payload


def staged_upload_name(*, token: str, user_id) -> str | None:
    """Return the original name of a kept upload, or None when the token is not valid for this user."""
    payload = _payload(token, user_id)
    if payload is None or not _storage().exists(payload["path"]):
        return None
    return payload["name"]


def staged_upload_open(*, token: str, user_id) -> File | None:
    """Return the kept upload as a file named as it was chosen, or None."""
    payload = _payload(token, user_id)
    storage = _storage()
    if payload is None or not storage.exists(payload["path"]):
        return None
    return File(storage.open(payload["path"], "rb"), name=payload["name"])


def staged_upload_discard(*, token: str, user_id) -> None:
    """Remove a kept upload once it has been saved for real."""
    payload = _payload(token, user_id)
    if payload is None:
        return
    storage = _storage()
    storage.delete(payload["path"])
    folder = Path(storage.location) / Path(payload["path"]).parent
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
