"""The admin site: creators' and admins' workplace. Entry needs a verified second factor."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse


class RangexAdminSite(admin.AdminSite):
    site_header = "RangeX administration"
    site_title = "RangeX admin"
    index_title = "Dashboard"
    enable_nav_sidebar = True

    def has_permission(self, request) -> bool:
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_staff and user.is_verified())

    def login(self, request, extra_context=None):
        """Send people through RangeX's own sign-in, which asks for the second factor."""
        next_url = request.GET.get("next") or reverse("admin:index")
        query = urlencode({"next": next_url})
        user = request.user
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{query}")
        if not user.is_staff:
            messages.error(request, "Your account has no access to the administration site.")
            return redirect("home")
        if not user.twofa_enabled:
            messages.warning(request, "Set up two-factor authentication to enter the administration site.")
            return redirect(f"{reverse('accounts:twofa_setup')}?{query}")
        return redirect(f"{reverse('accounts:login_2fa')}?{query}")

    def each_context(self, request):
        context = super().each_context(request)
        from django.conf import settings

        context["site_url"] = "/"
        context["rangex_instance"] = settings.RANGEX_INSTANCE
        return context

    def password_change(self, request, extra_context=None):
        """Use RangeX's password change, which audits and ends the other sessions."""
        return redirect("accounts:password_change")

    def logout(self, request, extra_context=None):
        from apps.accounts.views import logout_view

        return logout_view(request)
