"""No admin offers a delete that skips a service (architecture issue): the rule, and the user case."""

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import InlineModelAdmin
from django.test import RequestFactory

from apps.accounts.factories import AdminFactory

pytestmark = pytest.mark.django_db


def _admin_request():
    request = RequestFactory().get("/admin/")
    request.user = AdminFactory()
    request.user.is_superuser = True
    return request


def test_the_bulk_delete_action_is_gone_site_wide():
    assert "delete_selected" not in dict(admin.site.actions)
    request = _admin_request()
    for model, model_admin in admin.site._registry.items():
        assert "delete_selected" not in model_admin.get_actions(request), model._meta.label


def test_every_delete_the_admin_offers_goes_through_a_service():
    request = _admin_request()
    skipping = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.has_delete_permission(request):
            cls = type(model_admin)
            if cls.delete_model is ModelAdmin.delete_model or cls.delete_queryset is ModelAdmin.delete_queryset:
                skipping.append(model._meta.label)
        for inline_class in model_admin.inlines:
            inline = inline_class(model, admin.site)
            offered = inline.can_delete and inline.has_delete_permission(request)
            if offered and type(model_admin).save_formset is ModelAdmin.save_formset:
                skipping.append(f"{model._meta.label} inline {inline.model._meta.label}")
            assert isinstance(inline, InlineModelAdmin)
    assert skipping == [], skipping
