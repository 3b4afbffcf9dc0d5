"""Admin building blocks shared by every app."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect

from apps.ops.crypto import EncryptedTextField
from rangex.core.errors import ApplicationError


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that nobody edits or deletes in the admin, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SecretInput(forms.PasswordInput):
    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class SecretFieldsAdminMixin:
    """Encrypted columns are write-only password inputs; leaving one blank keeps the stored secret."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, EncryptedTextField):
            return forms.CharField(
                label=db_field.verbose_name.capitalize(),
                required=False,
                widget=SecretInput(),
                help_text="Stored encrypted. Leave empty to keep the current value.",
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def changed_values(self, obj, form) -> dict:
        """Return the form's changed values, minus secrets left blank."""
        out = {}
        for name in form.changed_data:
            value = form.cleaned_data.get(name)
            try:
                field = obj._meta.get_field(name)
            except Exception:
                field = None
            if isinstance(field, EncryptedTextField) and not value:
                continue
            out[name] = value
        return out


class ApplicationErrorAdminMixin:
    """Turn an ApplicationError raised while saving into an error message; the whole save rolls back."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(request.get_full_path())
