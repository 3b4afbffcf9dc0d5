"""Reads of accounts data, with access checks."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import ApiToken, LoginSession, User
from rangex.core.models import Notification
from rangex.core.selectors import get_one


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(user=user, is_read=False).count()


def api_token_list(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at")


def api_token_get_for_user(*, user: User, pk) -> ApiToken:
    return get_one(ApiToken.objects.filter(user=user), _("No such token."), pk=pk)


def login_session_list(*, user: User) -> QuerySet[LoginSession]:
    return LoginSession.objects.filter(user=user)


def user_get_public(*, pk) -> User:
    """Return an active user whose profile is public."""
    return get_one(User.objects.filter(is_active=True, profile_public=True), _("No such user."), pk=pk)
