"""Rate limits per account and per client address, for the API and the pages alike.

A *scope* names a kind of request (``login``, ``answer``, ``hint``, ``session_start``, ``import``)
and has two rates in ``settings.RANGEX_THROTTLE_RATES``: ``<scope>.user`` counts per account and
``<scope>.ip`` per client address (``client_ip``, which trusts proxies only as configured). Every
API request also counts against ``api.user`` (signed in) or ``api.anon`` (per address). Rates are
read on every check, so operators tune them with ``RANGEX_THROTTLE_RATES`` and tests with the
``settings`` fixture; ``off`` switches one off. Counters live in the cache (Redis in production),
with DRF's sliding window.

Over a rate, ``Throttled`` (an ApplicationError, 429, with ``Retry-After``) is raised: the API
answers it in its error shape, and pages show its message. API views name their scope with a
``throttle_scope`` attribute (it applies to writes only); pages call ``throttle_check``.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from rangex.core.errors import Throttled
from rangex.core.http import client_ip

SCOPE_LABELS = {
    "api": gettext_noop("API requests"),
    "login": gettext_noop("sign-in attempts"),
    "answer": gettext_noop("answers"),
    "hint": gettext_noop("hints taken"),
    "session_start": gettext_noop("lab starts"),
    "import": gettext_noop("imports"),
    "desktop": gettext_noop("desktop connections"),
}


class _Counter(SimpleRateThrottle):
    """One sliding window: the rate ``rate_name`` for one account or address."""

    def __init__(self, rate_name: str, ident: str):
        self.rate_name = rate_name
        self.ident = ident
        self.rate = settings.RANGEX_THROTTLE_RATES.get(rate_name)
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request, view):
        return f"throttle:{self.rate_name}:{self.ident}"


def _digest(value: str) -> str:
    # Keys hold ids, addresses or typed e-mail addresses: hashed, they are short and never logged as typed.
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def _count(request, *, scope: str, kind: str, ident: str) -> None:
    counter = _Counter(f"{scope}.{kind}", _digest(ident))
    if counter.allow_request(request, None):
        return
    wait = max(1, round(counter.wait() or 1))
    whom = _("this account") if kind == "user" else _("this address")
    label = _(SCOPE_LABELS.get(scope, gettext_noop("requests")))
    raise Throttled(
        _("Too many %(label)s from %(whom)s (at most %(rate)s); try again in %(wait)s seconds.")
        % {"label": label, "whom": whom, "rate": counter.rate, "wait": wait},
        limit=counter.rate_name,
        retry_after=wait,
    )


def throttle_check(request, scope: str, *, account: str | None = None) -> None:
    """Count one request of ``scope`` for the caller's account and address; raise ``Throttled`` over a rate.

    ``account`` names the account when the caller is not signed in yet (the address typed into a
    sign-in form); otherwise the signed-in user is counted.
    """
    user = getattr(request, "user", None)
    if account is None and user is not None and user.is_authenticated:
        account = str(user.pk)
    if account:
        _count(request, scope=scope, kind="user", ident=account)
    _count(request, scope=scope, kind="ip", ident=client_ip(request) or "unknown")


class ApiRateThrottle(BaseThrottle):
    """Every API request: ``api.user`` per account, or ``api.anon`` per address for anonymous callers."""

    def allow_request(self, request, view):
        user = request.user
        if user is not None and user.is_authenticated:
            _count(request, scope="api", kind="user", ident=str(user.pk))
        else:
            _count(request, scope="api", kind="anon", ident=client_ip(request) or "unknown")
        return True


class ScopedRateThrottle(BaseThrottle):
    """The view's ``throttle_scope`` on writes (POST, PUT, PATCH, DELETE), per account and per address."""

    def allow_request(self, request, view):
        scope = getattr(view, "throttle_scope", None)
        if scope and request.method not in SAFE_METHODS:
            throttle_check(request, scope)
        return True
