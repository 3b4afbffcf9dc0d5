from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Theme, User
from rangex.core.models import NotificationType


class SignupForm(forms.Form):
    email = forms.EmailField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    display_name = forms.CharField(max_length=100, required=False, help_text=_("Shown on scoreboards."))
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password_confirm = forms.CharField(
        label=_("Password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_confirm"):
            self.add_error("password_confirm", _("The two passwords differ."))
        return data


class LoginForm(forms.Form):
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        max_length=24,
        label=_("Code"),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}),
    )


class TotpEnrolForm(forms.Form):
    code = forms.CharField(
        max_length=8,
        label=_("Code from your app"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9 ]*"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class ProfileForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=lambda: [("", _("Follow my browser")), *settings.LANGUAGES],
        required=False,
        help_text=_("Pages, emails and notifications use this language."),
    )

    class Meta:
        model = User
        fields = [
            "display_name",
            "full_name",
            "organization",
            "bio",
            "profile_public",
            "show_on_path_leaderboards",
            "language",
        ]
        widgets = {"bio": forms.Textarea(attrs={"rows": 3})}


class AvatarForm(forms.Form):
    avatar = forms.FileField(help_text=_("PNG, JPEG, GIF or WebP; it is resized to 512 px."))


class PreferencesForm(forms.Form):
    email_types = forms.MultipleChoiceField(
        choices=NotificationType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        label=_("Email me about"),
    )
    theme = forms.ChoiceField(choices=Theme.choices)


class ApiTokenForm(forms.Form):
    label = forms.CharField(max_length=100, help_text=_("For example: laptop CLI, CI pipeline."))
    expires_in_days = forms.IntegerField(
        min_value=1, max_value=365, initial=90, required=False, help_text=_("Leave empty for no expiry.")
    )


class RangexPasswordChangeForm(PasswordChangeForm):
    """Django's form for the checks; the service does the change."""

    def save(self, commit=True):
        return self.user


class RangexSetPasswordForm(SetPasswordForm):
    def save(self, commit=True):
        from apps.accounts.services import user_set_password

        return user_set_password(user=self.user, password=self.cleaned_data["new_password1"], actor=self.user)
