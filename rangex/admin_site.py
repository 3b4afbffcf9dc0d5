"""The admin site: creators' and admins' workplace. Entry needs a verified second factor."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class RangexAdminSite(admin.AdminSite):
    site_header = _("RangeX administration")
    site_title = _("RangeX admin")
    index_title = _("Dashboard")
    enable_nav_sidebar = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Every delete goes through a service (lock, audit row, side effects) or is not offered:
        # the bulk action would delete rows without any of that.
        self.disable_action("delete_selected")

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
            messages.error(request, gettext("Your account has no access to the administration site."))
            return redirect("home")
        if not user.twofa_enabled:
            messages.warning(request, gettext("Set up two-factor authentication to enter the administration site."))
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


def tighten_third_party_admins(site: admin.AdminSite) -> None:
    """Take away deletes that would skip RangeX's services from admins other apps register.

    Groups mirror the role flags (``apps.accounts.roles``), so they have no editor of their own.
    The beat schedule is seeded by ``sync_beat``: admins change intervals or disable entries, and a
    deleted entry would only come back.
    """
    from django.contrib.auth.models import Group

    if site.is_registered(Group):
        site.unregister(Group)
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label != "django_celery_beat":
            continue
        site.unregister(model)
        inlines = [type(f"Kept{i.__name__}", (i,), {"has_delete_permission": _never}) for i in model_admin.inlines]
        kept = type(
            f"Kept{type(model_admin).__name__}",
            (type(model_admin),),
            {"has_delete_permission": _never, "inlines": inlines},
        )
        site.register(model, kept)


def _never(self, request, obj=None) -> bool:
    return False
