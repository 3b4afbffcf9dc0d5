"""Backups of an install: the database and the uploaded files in one archive, and their restore.

An archive is a gzip'd tar with three parts, in this order, so it can be written to and read from a
pipe: ``manifest.json`` (what the archive holds and where it came from), the database
(``database.sql`` from mariadb-dump/mysqldump, or ``database.sqlite3`` copied with SQLite's online
backup) and ``media/`` (the files of the local file storage; an S3 bucket is left to the store's own
tools). Secrets stored in the database stay encrypted with FIELD_ENCRYPTION_KEYS, which are not in
the archive: the manifest keeps a fingerprint of each key, and a restore refuses to run when a key
of the backed-up install is not configured, since its secrets could never be decrypted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils.translation import gettext as _

from rangex.core.errors import Conflict, ServiceUnavailable, ValidationFailed

logger = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
SQL_DUMP = "database.sql"
SQLITE_COPY = "database.sqlite3"
MEDIA = "media"
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class BackupSummary:
    database: str
    database_bytes: int
    media_files: int
    media_bytes: int
    media_included: bool


@dataclass(frozen=True)
class RestoreSummary:
    database: str
    tables_dropped: int
    media_files: int
    created_at: str


def key_fingerprint(key: str) -> str:
    """Return a short, one-way name for an encryption key: enough to match keys, useless to decrypt."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:16]


def _local_media_root() -> Path | None:
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def _media_files(root: Path | None) -> list[tuple[Path, str]]:
    """Return (path, name inside media/) for every regular file under ``root``, symlinks skipped."""
    if root is None or not root.is_dir():
        return []
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path, path.relative_to(root).as_posix()))
    return found


# --- MariaDB / MySQL client tools ---------------------------------------------------------------


def _client_tool(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise ServiceUnavailable(
        _("%(value)s (or %(value2)s) is not installed: apt-get install mariadb-client, then try again.")
        % {"value": names[0], "value2": names[1]}
    )


def _option_value(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def _client_options(settings_dict: dict) -> Iterator[str]:
    """Write the connection settings to a private option file, so the password is never in argv."""
    lines = ["[client]"]
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):
        lines.append(f"socket={_option_value(host)}")
    elif host:
        lines.append(f"host={_option_value(host)}")
        lines.append("protocol=tcp")
    if settings_dict.get("PORT"):
        lines.append(f"port={int(settings_dict['PORT'])}")
    if settings_dict.get("USER"):
        lines.append(f"user={_option_value(settings_dict['USER'])}")
    if settings_dict.get("PASSWORD"):
        lines.append(f"password={_option_value(settings_dict['PASSWORD'])}")
    lines.append("default-character-set=utf8mb4")
    with tempfile.TemporaryDirectory(prefix="rangex-db-") as folder:
        path = Path(folder) / "client.cnf"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        yield str(path)


def _run_client(argv: list[str], *, stdin: IO[bytes] | None = None, stdout: IO[bytes] | None = None) -> None:
    result = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, check=False)
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip()[-1500:]
        raise ServiceUnavailable(
            _("%(name)s failed (%(returncode)s): %(message)s")
            % {"name": Path(argv[0]).name, "returncode": result.returncode, "message": message}
        )


def _dump_mysql(settings_dict: dict, target: IO[bytes]) -> None:
    tool = _client_tool("mariadb-dump", "mysqldump")
    with _client_options(settings_dict) as options:
        # A consistent snapshot without locking the tables the running site writes to.
        argv = [
            tool,
            f"--defaults-extra-file={options}",
            "--single-transaction",
            "--quick",
            "--hex-blob",
            "--no-tablespaces",
            "--skip-dump-date",
            settings_dict["NAME"],
        ]
        _run_client(argv, stdout=target)


def _load_mysql(settings_dict: dict, source: IO[bytes]) -> None:
    tool = _client_tool("mariadb", "mysql")
    with _client_options(settings_dict) as options:
        _run_client([tool, f"--defaults-extra-file={options}", settings_dict["NAME"]], stdin=source)


# --- archive helpers ----------------------------------------------------------------------------


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _add_file(tar: tarfile.TarFile, name: str, path: Path) -> None:
    info = tarfile.TarInfo(name)
    stat = path.stat()
    info.size, info.mode, info.mtime = stat.st_size, 0o600, int(stat.st_mtime)
    with path.open("rb") as handle:
        tar.addfile(info, handle)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _applied_migrations(connection) -> list[str]:
    return sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations())


def backup_create(*, output: IO[bytes], using: str = "default") -> BackupSummary:
    """Write an archive of the database and the local media files to the binary stream ``output``."""
    connection = connections[using]
    vendor = connection.vendor
    if vendor not in ("mysql", "sqlite"):
        raise ValidationFailed(_("Backups support MariaDB/MySQL and SQLite, not %(vendor)s.") % {"vendor": vendor})
    media_root = _local_media_root()
    media = _media_files(media_root)
    with tempfile.TemporaryDirectory(prefix="rangex-backup-") as folder:
        dump = Path(folder) / "database"
        if vendor == "mysql":
            with dump.open("wb") as handle:
                _dump_mysql(connection.settings_dict, handle)
            dump_name = SQL_DUMP
        else:
            connection.ensure_connection()
            target = sqlite3.connect(dump)
            try:
                # The online backup API copies a consistent snapshot while the site keeps writing.
                connection.connection.backup(target)
            finally:
                target.close()
            dump_name = SQLITE_COPY
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "instance": settings.RANGEX_INSTANCE,
            "database": {"vendor": vendor, "file": dump_name, "sha256": _sha256_of(dump), "bytes": dump.stat().st_size},
            "migrations": _applied_migrations(connection),
            "media": {
                "included": media_root is not None,
                "files": len(media),
                "bytes": sum(path.stat().st_size for path, _ in media),
            },
            "encryption_keys": [key_fingerprint(key) for key in settings.FIELD_ENCRYPTION_KEYS],
        }
        # A stream ("w|gz") so the archive can go straight to a pipe.
        with tarfile.open(fileobj=output, mode="w|gz") as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode())
            _add_file(tar, dump_name, dump)
            for path, name in media:
                _add_file(tar, f"{MEDIA}/{name}", path)
    logger.info("Backup written: %s database, %d media file(s).", vendor, len(media))
    return BackupSummary(
        database=vendor,
        database_bytes=manifest["database"]["bytes"],
        media_files=len(media),
        media_bytes=manifest["media"]["bytes"],
        media_included=media_root is not None,
    )


def backup_write_file(*, path: Path, using: str = "default") -> BackupSummary:
    """Write an archive to ``path`` (mode 600: it holds password hashes and encrypted secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            summary = backup_create(output=handle, using=using)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return summary


# --- restore ------------------------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict:
    member = tar.next()
    if member is None or member.name != MANIFEST or not member.isfile() or member.size > CHUNK:
        raise ValidationFailed(_("This is not a RangeX backup: its first member is not manifest.json."))
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except (ValueError, UnicodeError):
        raise ValidationFailed(_("The backup's manifest.json is not valid JSON.")) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ValidationFailed(
            _("The backup's format is %(get)s; this RangeX reads format %(FORMAT)s.")
            % {"get": repr(manifest.get("format")), "FORMAT": FORMAT}
        )
    return manifest


def _check_compatible(manifest: dict, connection, *, allow_other_keys: bool) -> None:
    database = manifest.get("database") or {}
    if database.get("vendor") != connection.vendor:
        raise ValidationFailed(
            _(
                "The backup holds a %(get)s database; this install uses %(vendor)s. "
                "Restore it into an install with the same kind of database."
            )
            % {"get": database.get("vendor"), "vendor": connection.vendor}
        )
    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    newer = sorted(name for name in manifest.get("migrations", []) if tuple(name.split(".", 1)) not in known)
    if newer:
        raise ValidationFailed(
            _(
                "The backup comes from a newer RangeX (%(count)s migration(s) unknown here, e.g. %(value)s): "
                "restore it with that version or a later one."
            )
            % {"count": len(newer), "value": newer[0]}
        )
    configured = {key_fingerprint(key) for key in settings.FIELD_ENCRYPTION_KEYS}
    missing = [fp for fp in manifest.get("encryption_keys", []) if fp not in configured]
    if missing and not allow_other_keys:
        raise ValidationFailed(
            _(
                "FIELD_ENCRYPTION_KEYS lacks %(count)s key(s) of the backed-up install (fingerprints "
                "%(items)s): the secrets in this backup could not be decrypted. Set the keys kept with "
                "the backup, or pass --allow-other-keys to restore anyway and re-enter every stored secret."
            )
            % {"count": len(missing), "items": ", ".join(missing)}
        )


def _drop_tables(connection) -> int:
    with connection.cursor() as cursor:
        tables = connection.introspection.get_table_list(cursor)
        quote = connection.ops.quote_name
        if connection.vendor == "mysql":
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in tables:
                    kind = "VIEW" if table.type == "v" else "TABLE"
                    cursor.execute(f"DROP {kind} IF EXISTS {quote(table.name)}")
            finally:
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")
        # SQLite needs nothing dropped: the page copy replaces the whole file.
    return len(tables) if connection.vendor == "mysql" else 0


def _extract_checked(tar: tarfile.TarFile, manifest: dict, folder: Path) -> Path:
    database = manifest["database"]
    member = tar.next()
    if member is None or member.name != database.get("file") or not member.isfile():
        raise ValidationFailed(
            _("The backup does not hold %(get)s after its manifest.") % {"get": database.get("file")}
        )
    path = folder / "database"
    digest = hashlib.sha256()
    with tar.extractfile(member) as source, path.open("wb") as target:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            target.write(block)
    if digest.hexdigest() != database.get("sha256"):
        raise ValidationFailed(_("The backup's database does not match its checksum: the archive is damaged."))
    return path


def _media_target(root: Path, name: str) -> Path:
    relative = PurePosixPath(name).relative_to(MEDIA)
    if relative.is_absolute() or any(part in ("", ".", "..") for part in relative.parts) or not relative.parts:
        raise ValidationFailed(_("The backup holds a file with an unsafe name: %(name)s.") % {"name": repr(name)})
    target = root.joinpath(*relative.parts)
    if not target.resolve().is_relative_to(root.resolve()):
        raise ValidationFailed(_("The backup holds a file outside media/: %(name)s.") % {"name": repr(name)})
    return target


def _clear_folder(root: Path) -> None:
    for child in root.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def backup_restore(
    *, source: IO[bytes], replace: bool = False, allow_other_keys: bool = False, using: str = "default"
) -> RestoreSummary:
    """Restore an archive from the binary stream ``source`` into this install's database and media.

    The database must be empty unless ``replace`` is set, which drops its tables (and empties the
    media folder) once the archive's manifest and database checksum have been checked.
    """
    try:
        # A stream ("r|gz"): the parts are read in the order they were written, from a file or a pipe.
        with tarfile.open(fileobj=source, mode="r|gz") as tar, tempfile.TemporaryDirectory(prefix="rangex-") as tmp:
            return _restore(tar, Path(tmp), connections[using], replace=replace, allow_other_keys=allow_other_keys)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ValidationFailed(
            _("The archive is damaged or is not a RangeX backup (%(exc)s).") % {"exc": exc}
        ) from None


def _restore(
    tar: tarfile.TarFile, folder: Path, connection, *, replace: bool, allow_other_keys: bool
) -> RestoreSummary:
    media_root = _local_media_root()
    manifest = _read_manifest(tar)
    _check_compatible(manifest, connection, allow_other_keys=allow_other_keys)
    tables = connection.introspection.table_names()
    if tables and not replace:
        raise Conflict(
            _(
                "The database %(NAME)s is not empty (%(count)s tables): restore "
                "into an empty database, or pass --replace to drop its tables first."
            )
            % {"NAME": connection.settings_dict["NAME"], "count": len(tables)}
        )
    wants_media = bool(manifest.get("media", {}).get("included")) and media_root is not None
    if wants_media and not replace and media_root.is_dir() and any(media_root.iterdir()):
        raise Conflict(
            _("The media folder %(media_root)s is not empty: pass --replace to empty it first.")
            % {"media_root": media_root}
        )
    dump = _extract_checked(tar, manifest, folder)

    dropped = _drop_tables(connection) if replace else 0
    if connection.vendor == "mysql":
        with dump.open("rb") as handle:
            _load_mysql(connection.settings_dict, handle)
        connection.close()
    else:
        connection.close()
        backup = sqlite3.connect(dump)
        target = sqlite3.connect(connection.settings_dict["NAME"])
        try:
            backup.backup(target)
        finally:
            backup.close()
            target.close()

    restored = 0
    if wants_media:
        media_root.mkdir(parents=True, exist_ok=True)
        if replace:
            _clear_folder(media_root)
    # next(), not iteration: iterating a stream starts over from the members already read.
    while (member := tar.next()) is not None:
        if not member.name.startswith(f"{MEDIA}/"):
            raise ValidationFailed(_("The backup holds an unexpected member: %(name)s.") % {"name": repr(member.name)})
        if not wants_media or member.isdir():
            continue
        if not member.isfile():
            raise ValidationFailed(
                _("The backup holds a link or device in media/: %(name)s.") % {"name": repr(member.name)}
            )
        target_path = _media_target(media_root, member.name)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        with tar.extractfile(member) as data, target_path.open("wb") as handle:
            shutil.copyfileobj(data, handle, CHUNK)
        restored += 1
    logger.info(
        "Backup of %s restored (%d table(s) dropped first, %d media file(s)).",
        manifest["created_at"],
        dropped,
        restored,
    )
    return RestoreSummary(
        database=connection.vendor, tables_dropped=dropped, media_files=restored, created_at=manifest["created_at"]
    )
