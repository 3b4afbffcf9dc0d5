from django import forms
from django.contrib import admin, messages
from django.contrib.auth import password_validation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts import services
from apps.accounts.models import ApiToken, CreatorPreferences, LoginSession, User
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin, SecretFieldsAdminMixin
from rangex.core.errors import ApplicationError
from rangex.core.models import Notification


class UserAddForm(forms.ModelForm):
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("The user can change it after signing in."),
    )

    class Meta:
        model = User
        fields = ["email", "display_name", "role_solver", "role_creator", "role_admin"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(gettext("An account with this email address already exists."))
        return email

    def clean(self):
        data = super().clean()
        if data.get("password"):
            candidate = User(email=data.get("email") or "", display_name=data.get("display_name") or "")
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data


@admin.register(User)
class UserAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = [
        "email",
        "display_name",
        "role_solver",
        "role_creator",
        "role_admin",
        "is_active",
        "twofa_enabled",
        "last_login_at",
        "created_at",
    ]
    list_filter = ["role_creator", "role_admin", "is_active", "twofa_enabled"]
    search_fields = ["email", "display_name", "full_name", "organization"]
    ordering = ["email"]
    readonly_fields = [
        "id",
        "twofa_enabled",
        "last_login_at",
        "last_login_ip",
        "last_ip",
        "password_updated_at",
        "failed_login_attempts",
        "locked_until",
        "budget_spent_rm",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["id", "email", "display_name", "full_name", "organization", "bio", "profile_public"]}),
        (_("Roles"), {"fields": ["role_solver", "role_creator", "role_admin", "is_active"]}),
        (_("Budget"), {"fields": ["budget_limit_rm", "budget_spent_rm"]}),
        (
            _("Security"),
            {
                "fields": [
                    "twofa_enabled",
                    "email_verified_at",
                    "last_login_at",
                    "last_login_ip",
                    "last_ip",
                    "password_updated_at",
                    "failed_login_attempts",
                    "locked_until",
                ]
            },
        ),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["unlock_accounts", "disable_accounts", "enable_accounts", "reset_two_factor"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = UserAddForm
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["email", "display_name", "password", "role_solver", "role_creator", "role_admin"]})
            ]
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else super().get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        try:
            if not change:
                created = services.user_create(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    display_name=form.cleaned_data.get("display_name", ""),
                    role_solver=form.cleaned_data["role_solver"],
                    role_creator=form.cleaned_data["role_creator"],
                    role_admin=form.cleaned_data["role_admin"],
                    verified=True,
                    actor=request.user,
                )
                obj.pk = created.pk
            else:
                changes = {name: form.cleaned_data[name] for name in form.changed_data}
                services.user_admin_update(user=obj, actor=request.user, changes=changes)
        except ApplicationError as exc:
            messages.error(request, exc.message)

    def save_related(self, request, form, formsets, change):
        """Groups follow the role flags; there is no separate group editor."""

    def delete_model(self, request, obj):
        services.user_delete(user=obj, actor=request.user)

    @admin.action(description=_("Unlock selected accounts"))
    def unlock_accounts(self, request, queryset):
        for user in queryset:
            services.user_unlock(user=user, actor=request.user)
        n = queryset.count()
        messages.success(request, gettext("Unlocked %(n)d account(s).") % {"n": n})

    @admin.action(description=_("Disable selected accounts (ends their sessions)"))
    def disable_accounts(self, request, queryset):
        for user in queryset.exclude(pk=request.user.pk):
            services.user_set_active(user=user, actor=request.user, active=False)
        messages.success(request, gettext("Disabled the selected accounts (your own excepted)."))

    @admin.action(description=_("Enable selected accounts"))
    def enable_accounts(self, request, queryset):
        for user in queryset:
            services.user_set_active(user=user, actor=request.user, active=True)

    @admin.action(description=_("Reset two-factor authentication (the user enrols again)"))
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            services.twofa_disable(user=user, actor=request.user)
        messages.success(request, gettext("Two-factor authentication reset."))


@admin.register(CreatorPreferences)
class CreatorPreferencesAdmin(SecretFieldsAdminMixin, admin.ModelAdmin):
    list_display = ["user", "default_resource_profile", "docker_registry_url", "updated_at"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        return qs if request.user.is_platform_admin else qs.filter(user=request.user)

    def has_delete_permission(self, request, obj=None):
        # One row per creator, made on first use; there is nothing to delete, only defaults to restore.
        return False

    def save_model(self, request, obj, form, change):
        changes = self.changed_values(obj, form)
        changes.pop("user", None)
        try:
            services.creator_preferences_update(user=obj.user, **changes)
        except ApplicationError as exc:
            messages.error(request, exc.message)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ["title", "user", "type", "is_read", "created_at"]
    list_filter = ["type", "is_read"]
    search_fields = ["title", "user__email"]
    list_select_related = ["user"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["label", "user", "key_id", "created_at", "expires_at", "last_used_at", "revoked_at"]
    search_fields = ["label", "user__email", "key_id"]
    list_select_related = ["user"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke selected tokens"))
    def revoke(self, request, queryset):
        for token in queryset:
            services.api_token_revoke(token=token, actor=request.user)
        messages.success(request, gettext("Tokens revoked."))

    def has_change_permission(self, request, obj=None):
        # The revoke action needs change permission; the form itself stays read-only.
        return request.user.is_platform_admin and obj is None


@admin.register(LoginSession)
class LoginSessionAdmin(ReadOnlyAdmin):
    list_display = ["user", "ip", "user_agent", "created_at"]
    search_fields = ["user__email", "ip"]
    list_select_related = ["user"]
