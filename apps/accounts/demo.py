"""Demo accounts for the embedded default: an admin, a creator and a solver."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.conf import settings

from apps.accounts.models import User
from apps.accounts.services import user_create

DEMO_ACCOUNTS = [
    {"email": "admin@rangex.local", "display_name": "Demo admin", "role_admin": True, "role_creator": True},
    {"email": "creator@rangex.local", "display_name": "Demo creator", "role_creator": True},
    {"email": "solver@rangex.local", "display_name": "Demo solver"},
]


def _credentials_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-credentials.json"


def seed(stdout) -> dict[str, str]:
    """Create the demo accounts once; their random passwords are kept in var/ (mode 600) and printed."""
    path = _credentials_file()
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    for spec in DEMO_ACCOUNTS:
        email = spec["email"]
        if User.objects.filter(email=email).exists() and email in stored:
            continue
        password = stored.get(email) or f"demo-{secrets.token_urlsafe(9)}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user_create(
                email=email,
                password=password,
                display_name=spec["display_name"],
                role_creator=spec.get("role_creator", False),
                role_admin=spec.get("role_admin", False),
                verified=True,
            )
        else:
            user.set_password(password)
            user.save(update_fields=["password"])
        stored[email] = password
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2))
    os.chmod(path, 0o600)
    return stored
