"""Account pages: sign-up, sign-in with a second factor, profile, tokens, notifications."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from apps.accounts import otp, selectors, services
from apps.accounts.forms import (
    ApiTokenForm,
    AvatarForm,
    LoginForm,
    OtpCodeForm,
    PasswordConfirmForm,
    PreferencesForm,
    ProfileForm,
    RangexPasswordChangeForm,
    RangexSetPasswordForm,
    SignupForm,
    TotpEnrolForm,
)
from apps.accounts.language import UserLanguagePasswordResetForm, active_language, language_follow
from apps.accounts.middleware import SEEN_KEY, STARTED_KEY
from apps.accounts.models import User
from rangex.core import crypto
from rangex.core.errors import ApplicationError, Throttled
from rangex.core.http import client_ip, safe_next_url, user_agent
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_mark_read
from rangex.core.system import get_settings
from rangex.core.throttling import throttle_check

PENDING_2FA_KEY = "_rx_pending_2fa"
PENDING_ENROL_KEY = "_rx_pending_totp"
PENDING_2FA_SECONDS = 300
BACKEND = "apps.accounts.backends.EmailBackend"


def _apply_errors(form, exc: ApplicationError) -> None:
    """Show a service's refusal on the form: its summary on top, per-field messages at the fields."""
    field_messages = [m for messages_ in exc.fields.values() for m in messages_]
    if exc.message not in field_messages and not any(exc.message.endswith(m) for m in field_messages):
        form.add_error(None, exc.message)
    for field, messages_ in exc.fields.items():
        target = field if field in form.fields else None
        for message in messages_:
            form.add_error(target, message)


def _complete_login(request: HttpRequest, user: User, device=None) -> None:
    # auth_login rotates the session key; a second rotation follows the 2FA step.
    auth_login(request, user, backend=BACKEND)
    if device is not None:
        otp_login(request, device)
        request.session.cycle_key()
    request.session.pop(PENDING_2FA_KEY, None)
    request.session[STARTED_KEY] = request.session[SEEN_KEY] = int(time.time())
    services.auth_record_login(
        user=user, ip=client_ip(request), second_factor=type(device).__name__ if device else None
    )
    request.session.save()
    services.login_session_record(
        user=user, session_key=request.session.session_key, ip=client_ip(request), user_agent=user_agent(request)
    )


def signup(request: HttpRequest) -> HttpResponse:
    system = get_settings()
    if not system.allow_new_registrations:
        return render(request, "accounts/signup_closed.html", status=403)
    form = SignupForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                user = services.user_signup(
                    email=form.cleaned_data["email"],
                    password=form.cleaned_data["password"],
                    display_name=form.cleaned_data["display_name"],
                    language=active_language(),
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                _complete_login(request, user)
                messages.success(request, _("Welcome to RangeX! We sent you a link to confirm your email address."))
                return redirect("home")
        status = 400
    return render(request, "accounts/signup.html", {"form": form}, status=status)


def login_view(request: HttpRequest) -> HttpResponse:
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            # Per address, and per account typed: a guesser spread over many addresses still hits the second.
            throttle_check(request, "login", account=request.POST.get("email", "").strip().lower() or None)
        except Throttled as exc:
            form.add_error(None, exc.message)
            return render(request, "accounts/login.html", {"form": form, "next": safe_next_url(request)}, status=429)
        if form.is_valid():
            try:
                user = services.auth_check_credentials(
                    email=form.cleaned_data["email"], password=form.cleaned_data["password"]
                )
            except ApplicationError as exc:
                # Tied to the password field, so it is marked invalid and names the error to screen readers.
                form.add_error("password", exc.message)
            else:
                if user.twofa_enabled:
                    # Rotate before remembering who is half-way in, so a planted session id is useless.
                    request.session.cycle_key()
                    request.session[PENDING_2FA_KEY] = {"user": str(user.pk), "at": int(time.time())}
                    return redirect(f"{reverse('accounts:login_2fa')}?next={safe_next_url(request)}")
                _complete_login(request, user)
                return redirect(safe_next_url(request))
        status = 400
    return render(request, "accounts/login.html", {"form": form, "next": safe_next_url(request)}, status=status)


def login_2fa(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in, or a step-up check for a signed-in user who is not yet verified."""
    stepping_up = request.user.is_authenticated
    if stepping_up:
        user = request.user
        if not user.twofa_enabled:
            return redirect(f"{reverse('accounts:twofa_setup')}?next={safe_next_url(request)}")
        if user.is_verified():
            return redirect(safe_next_url(request))
    else:
        pending = request.session.get(PENDING_2FA_KEY)
        if not pending or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
            request.session.pop(PENDING_2FA_KEY, None)
            messages.info(request, _("Please sign in again."))
            return redirect("accounts:login")
        user = User.objects.filter(pk=pending["user"], is_active=True).first()
        if user is None:
            request.session.pop(PENDING_2FA_KEY, None)
            return redirect("accounts:login")
    form = OtpCodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        try:
            throttle_check(request, "login", account=user.email.lower())
        except Throttled as exc:
            form.add_error(None, exc.message)
            context = {"form": form, "next": safe_next_url(request)}
            return render(request, "accounts/login_2fa.html", context, status=429)
        if form.is_valid():
            try:
                device = services.twofa_verify(user=user, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                form.add_error("code", exc.message)
            else:
                if stepping_up:
                    otp_login(request, device)
                    request.session.cycle_key()
                else:
                    _complete_login(request, user, device)
                return redirect(safe_next_url(request))
        status = 400
    return render(request, "accounts/login_2fa.html", {"form": form, "next": safe_next_url(request)}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.login_session_forget(session_key=request.session.session_key)
    auth_logout(request)
    messages.info(request, _("You are signed out."))
    return redirect("home")


def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.email_verify(token=token)
    except ApplicationError as exc:
        return render(request, "accounts/verify_failed.html", {"message": exc.message}, status=400)
    messages.success(request, _("Your email address is confirmed."))
    return redirect("accounts:profile" if request.user.is_authenticated else "accounts:login")


@login_required
@require_POST
def resend_verification(request: HttpRequest) -> HttpResponse:
    if request.user.email_verified_at is None:
        services.email_verification_send(user=request.user)
        messages.success(request, _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email})
    return redirect("accounts:profile")


@login_required
def twofa_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show the QR code and the key, then check one code."""
    if request.method == "GET" or PENDING_ENROL_KEY not in request.session:
        secret = otp.new_totp_secret()
        request.session[PENDING_ENROL_KEY] = crypto.encrypt(secret)
    else:
        secret = crypto.decrypt(request.session[PENDING_ENROL_KEY])
    form = TotpEnrolForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                device, codes = services.twofa_enable(user=request.user, secret=secret, code=form.cleaned_data["code"])
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                request.session.pop(PENDING_ENROL_KEY, None)
                otp_login(request, device)
                request.session.cycle_key()
                return render(
                    request,
                    "accounts/recovery_codes.html",
                    {"codes": codes, "next": safe_next_url(request, "accounts:profile")},
                )
        status = 400
    uri = otp.provisioning_uri(email=request.user.email, secret_b32=secret)
    context = {
        "form": form,
        "qr_svg": otp.qr_svg(uri),
        "secret": otp.format_secret(secret),
        "next": safe_next_url(request, "accounts:profile"),
        "required": request.user.is_staff and not request.user.twofa_enabled,
    }
    return render(request, "accounts/twofa_setup.html", context, status=status)


@login_required
@require_POST
def twofa_disable(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST)
    if form.is_valid():
        try:
            services.twofa_disable(user=request.user, actor=request.user, password=form.cleaned_data["password"])
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:profile")
        messages.success(request, _("Two-factor authentication is off."))
    else:
        messages.error(request, _("Enter your password to turn two-factor authentication off."))
    return redirect("accounts:profile")


@login_required
@require_POST
def recovery_codes_regenerate(request: HttpRequest) -> HttpResponse:
    codes = services.recovery_codes_regenerate(user=request.user)
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:profile")})


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    profile_form = ProfileForm(instance=user, prefix="profile")
    avatar_form = AvatarForm(prefix="avatar")
    prefs_initial = {
        "email_types": [t for t in NotificationType.values if user.wants_email_for(t)],
        "theme": user.theme,
    }
    prefs_form = PreferencesForm(initial=prefs_initial, prefix="prefs")
    status = 200
    if request.method == "POST":
        section = request.POST.get("section")
        try:
            if section == "profile":
                profile_form = ProfileForm(request.POST, instance=User.objects.get(pk=user.pk), prefix="profile")
                if profile_form.is_valid():
                    services.user_update_profile(
                        user=user, **{f: profile_form.cleaned_data[f] for f in ProfileForm.Meta.fields}
                    )
                    messages.success(request, _("Profile saved."))
                    return language_follow(redirect("accounts:profile"), profile_form.cleaned_data["language"])
            elif section == "avatar":
                avatar_form = AvatarForm(request.POST, request.FILES, prefix="avatar")
                if avatar_form.is_valid():
                    services.user_set_avatar(user=user, upload=avatar_form.cleaned_data["avatar"])
                    messages.success(request, _("Avatar updated."))
                    return redirect("accounts:profile")
            elif section == "prefs":
                prefs_form = PreferencesForm(request.POST, prefix="prefs")
                if prefs_form.is_valid():
                    services.user_set_preferences(
                        user=user,
                        email_types=set(prefs_form.cleaned_data["email_types"]),
                        theme=prefs_form.cleaned_data["theme"],
                    )
                    messages.success(request, _("Preferences saved."))
                    return redirect("accounts:profile")
        except ApplicationError as exc:
            form = {"profile": profile_form, "avatar": avatar_form, "prefs": prefs_form}.get(section)
            if form is not None:
                _apply_errors(form, exc)
        status = 400
    _totp, recovery = services.twofa_devices(user)
    context = {
        "profile_form": profile_form,
        "avatar_form": avatar_form,
        "prefs_form": prefs_form,
        "password_form": PasswordConfirmForm(),
        "recovery_left": recovery.codes.count() if recovery else 0,
        "login_sessions": selectors.login_session_list(user=user)[:10],
        "current_session_key": request.session.session_key,
    }
    return render(request, "accounts/profile.html", context, status=status)


@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    form = RangexPasswordChangeForm(request.user, request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            user = services.user_set_password(
                user=request.user,
                password=form.cleaned_data["new_password1"],
                actor=request.user,
                keep_session_key=request.session.session_key,
            )
            update_session_auth_hash(request, user)
            messages.success(request, _("Password changed. Your other sessions were signed out."))
            return redirect("accounts:profile")
        status = 400
    return render(request, "accounts/password_change.html", {"form": form}, status=status)


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST or None)
    created = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _token, created = services.api_token_create(
                    user=request.user,
                    label=form.cleaned_data["label"],
                    expires_in_days=form.cleaned_data["expires_in_days"],
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
                status = 400
            else:
                form = ApiTokenForm()
        else:
            status = 400
    context = {"form": form, "created": created, "tokens": selectors.api_token_list(user=request.user)}
    return render(request, "accounts/tokens.html", context, status=status)


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk) -> HttpResponse:
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("Token “%(label)s” revoked.") % {"label": token.label})
    return redirect("accounts:tokens")


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.notification_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "accounts/notifications.html", {"page": page})


@login_required
@require_POST
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    ids = request.POST.getlist("id") or None
    notification_mark_read(user=request.user, notification_ids=ids)
    return redirect(safe_next_url(request, "accounts:notifications"))


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset.html"
    form_class = UserLanguagePasswordResetForm  # each email in its recipient's language
    email_template_name = "accounts/email/password_reset.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")
    extra_email_context = {"site_url": settings.SITE_URL}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = RangexSetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")
