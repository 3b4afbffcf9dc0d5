"""Helpers the account services share."""

from __future__ import annotations

import logging

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from apps.accounts.models import (
    LoginSession,
    User,
)

logger = logging.getLogger(__name__)


ROLE_FIELDS = ("role_solver", "role_creator", "role_admin")


# A user row is validated without the columns a service never changes this way.
USER_CLEAN = {"exclude": ["password", "email", "avatar"], "validate_unique": False}


def password_errors(password: str, user: User | None = None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def login_sessions_end(*, user: User, keep_session_key: str | None) -> int:
    """Delete every stored browser session of ``user`` except ``keep_session_key``."""
    from django.contrib.sessions.models import Session

    keys = list(
        LoginSession.objects.filter(user=user)
        .exclude(session_key=keep_session_key or "")
        .values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=keys).delete()
    LoginSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)
