"""Idle and absolute session timeouts."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from rangex.core.http import client_ip

STARTED_KEY = "_rx_started"
SEEN_KEY = "_rx_seen"
# Write the last-seen stamp at most this often, so reads do not turn into session writes.
SEEN_RESOLUTION_SECONDS = 30


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            started = session.get(STARTED_KEY)
            seen = session.get(SEEN_KEY)
            if started is None:
                session[STARTED_KEY] = started = now
            if seen is None:
                session[SEEN_KEY] = seen = now
            idle_limit = settings.SESSION_IDLE_TIMEOUT_MINUTES * 60
            absolute_limit = settings.SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
            if now - seen > idle_limit or now - started > absolute_limit:
                from apps.accounts.services import login_session_forget

                login_session_forget(session_key=session.session_key)
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                messages.info(request, _("Your session timed out. Please sign in again."))
                return redirect(f"{settings.LOGIN_URL_PATH}?next={request.path}")
            if now - seen >= SEEN_RESOLUTION_SECONDS:
                session[SEEN_KEY] = now
                ip = client_ip(request)
                if ip and ip != user.last_ip:
                    type(user).objects.filter(pk=user.pk).update(last_ip=ip)
        return self.get_response(request)
