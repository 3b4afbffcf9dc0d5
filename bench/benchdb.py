"""The benchmarks' own MariaDB database: named by DATABASE_URL, created when missing.

Import this before ``django.setup()``. It defaults DATABASE_URL to ``rangex_bench`` on the local
MariaDB, so a bench never writes into the development or test databases.
"""

from __future__ import annotations

import os

import MySQLdb

os.environ.setdefault("DATABASE_URL", "mysql://root@127.0.0.1:3306/rangex_bench")


def ensure_database() -> str:
    """Create the database DATABASE_URL names if it does not exist; return its name."""
    import environ

    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    name = config["NAME"]
    connection = MySQLdb.connect(
        host=config.get("HOST") or "127.0.0.1",
        port=int(config.get("PORT") or 3306),
        user=config.get("USER") or "root",
        password=config.get("PASSWORD") or "",
    )
    try:
        connection.cursor().execute(
            f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
    finally:
        connection.close()
    return name


ensure_database()
