"""Typed reads of the environment that fail loudly and name the variable.

django-environ parses the values; these wrappers add what RangeX needs on top:
every malformed value stops start-up with a message naming the variable, and
every secret may come from ``NAME`` or from a file named by ``NAME_FILE``
(Docker and Kubernetes secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()

_NOT_SET = object()


def _fail(name: str, value: str, expected: str) -> ImproperlyConfigured:
    # The value itself is left out: it may be a secret pasted into the wrong variable.
    return ImproperlyConfigured(f"Environment variable {name} is malformed: expected {expected}.")


def read_env_file(path: Path) -> None:
    """Load ``KEY=value`` lines from a .env file without overriding the real environment."""
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)


def get_str(name: str, default: Any = _NOT_SET) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is _NOT_SET:
            raise ImproperlyConfigured(f"Environment variable {name} is required but not set.")
        return default
    return value


def get_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise _fail(name, raw, "one of true/false/1/0/yes/no/on/off")


def get_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise _fail(name, raw, "an integer") from None
    if minimum is not None and value < minimum:
        raise _fail(name, raw, f"an integer of at least {minimum}")
    return value


def get_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_secret(name: str, default: Any = _NOT_SET) -> str:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(
                f"Environment variable {name}_FILE names a file that cannot be read ({exc.strerror})."
            ) from None
    return get_str(name, default)


def get_db_url(name: str, default: str) -> dict[str, Any]:
    raw = os.environ.get(name) or default
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in {"sqlite", "mysql", "mysql2", "mariadb"}:
        raise _fail(name, raw, "a URL such as mysql://user:password@host:3306/rangex or sqlite:///path")
    if scheme == "mariadb":
        raw = "mysql" + raw[len("mariadb") :]
    try:
        config = environ.Env.db_url_config(raw)
    except Exception:
        raise _fail(name, raw, "a URL such as mysql://user:password@host:3306/rangex") from None
    if not config.get("NAME"):
        raise _fail(name, raw, "a URL that names the database")
    if config["ENGINE"].endswith("mysql"):
        port = config.get("PORT")
        if port not in ("", None) and not str(port).isdigit():
            raise _fail(name, raw, "a numeric port")
    return config


def get_url(name: str, default: str, *, schemes: set[str]) -> str:
    raw = os.environ.get(name) or default
    if not raw:
        return raw
    scheme = raw.split("://", 1)[0] if "://" in raw else ""
    if scheme not in schemes:
        raise _fail(name, raw, f"a URL with one of the schemes {', '.join(sorted(schemes))}")
    return raw


def check_fernet_keys(name: str, keys: list[str]) -> None:
    from cryptography.fernet import Fernet

    for index, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"Environment variable {name} is malformed: key {index} is not a url-safe base64 32-byte "
                "Fernet key (make one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())')."
            ) from None


_RATE_PERIODS = {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}


def get_rates(name: str, defaults: dict[str, str | None]) -> dict[str, str | None]:
    """Read ``key=N/period`` pairs (``answer.user=60/min,login.ip=off``) over ``defaults``.

    Only the keys of ``defaults`` may be set; ``off`` switches a rate off (stored as None).
    """
    rates = dict(defaults)
    raw = os.environ.get(name, "")
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        key, sep, value = (piece.strip() for piece in item.partition("="))
        if not sep or key not in defaults:
            raise _fail(name, raw, f"comma-separated key=rate pairs with keys among {', '.join(sorted(defaults))}")
        if value.lower() == "off":
            rates[key] = None
            continue
        count, slash, period = value.partition("/")
        if not slash or not count.isdigit() or int(count) < 1 or period not in _RATE_PERIODS:
            raise _fail(name, raw, f"a rate such as 30/min or off for {key}")
        rates[key] = f"{int(count)}/{period}"
    return rates
