"""Encryption of secrets at rest, with key rotation.

``FIELD_ENCRYPTION_KEYS`` holds Fernet keys, newest first. The newest key encrypts;
every key decrypts, so an operator rotates by prepending a new key, running
``manage.py rotate_encryption_keys`` and later dropping the old key.
"""

from __future__ import annotations

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key."""


class SecretStr(str):
    """A decrypted secret. Behaves as ``str`` but never shows itself in a repr or a traceback."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SecretStr('********')"


@functools.lru_cache(maxsize=4)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _cipher() -> MultiFernet:
    return _multi_fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _cipher().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> SecretStr:
    try:
        return SecretStr(_cipher().decrypt(token.encode("ascii")).decode("utf-8"))
    except (InvalidToken, ValueError, UnicodeError):
        raise DecryptionError("A stored secret could not be decrypted with any configured key.") from None


def rotate(token: str) -> str:
    """Re-encrypt ``token`` with the newest key."""
    try:
        return _cipher().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken:
        raise DecryptionError("A stored secret could not be decrypted with any configured key.") from None


class EncryptedTextField(models.TextField):
    """A text column holding Fernet ciphertext; Python sees the plaintext as a ``SecretStr``.

    An empty string and NULL are stored as they are, so "no secret" stays visible in SQL.
    """

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, SecretStr):
            return value
        return SecretStr(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value in (None, "") else encrypt(str(value))


def undecryptable_secret_columns(*, sample: int = 20) -> list[str]:
    """Return ``app.Model.field`` of every encrypted column holding a value no configured key decrypts.

    Reads up to ``sample`` stored values of each column as raw SQL (a model query would raise on the
    first one), so a restore under other ``FIELD_ENCRYPTION_KEYS`` is reported instead of crashing.
    """
    from django.apps import apps
    from django.db import connection

    quote = connection.ops.quote_name
    broken = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, EncryptedTextField):
                continue
            column, table = quote(field.column), quote(model._meta.db_table)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> '' LIMIT %s",  # noqa: S608 (quoted names)
                    [sample],
                )
                values = [row[0] for row in cursor.fetchall()]
            for value in values:
                try:
                    decrypt(value)
                except DecryptionError:
                    broken.append(f"{model._meta.label}.{field.name}")
                    break
    return broken
