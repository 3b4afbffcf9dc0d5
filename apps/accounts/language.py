"""The language of a signed-in user: their preference wins over the cookie and the browser.

Order for a request: ``User.language`` (this middleware, after authentication), then the language
cookie, then ``Accept-Language`` (both read earlier by Django's ``LocaleMiddleware``). The cookie
follows the preference, so the choice holds after signing out; the header's switcher posts to
``language_switch``, which also saves the choice on the account of a signed-in user.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

LANGUAGE_CODES = frozenset(code for code, _name in settings.LANGUAGES)


def active_language() -> str:
    """The language this request is served in ("" outside one)."""
    return translation.get_language() or ""


def user_language(user) -> str:
    """The language to write to ``user`` in (emails, notifications): their preference or the default."""
    language = getattr(user, "language", "") or ""
    return language if language in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _preferred(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    language = getattr(user, "language", "") or ""
    return language if language in LANGUAGE_CODES else ""


def activate_user_language(request: HttpRequest, user) -> None:
    """Switch this request to ``user``'s preferred language, if they have one."""
    language = getattr(user, "language", "") or ""
    if language in LANGUAGE_CODES:
        translation.activate(language)
        request.LANGUAGE_CODE = language


def set_language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


def language_follow(response: HttpResponse, language: str) -> HttpResponse:
    """After the profile saved ``language``: set the cookie to it, or drop it to follow the browser."""
    if language:
        set_language_cookie(response, language)
    else:
        response.delete_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


class UserLanguageMiddleware:
    """Activate the signed-in user's language; keep the language cookie in step with it.

    Runs after ``AuthenticationMiddleware``. At sign-in the response carries the new user, so the
    cookie is set then; after a change on the profile the next request sets it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _preferred(request):
            activate_user_language(request, request.user)
        response = self.get_response(request)
        language = _preferred(request)
        name = settings.LANGUAGE_COOKIE_NAME
        if language and request.COOKIES.get(name) != language and name not in response.cookies:
            set_language_cookie(response, language)
        return response


@require_POST
def language_switch(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie, ``next``), and the choice saved on a signed-in account."""
    response = set_language(request)
    language = request.POST.get("language", "")
    user = getattr(request, "user", None)
    if language in LANGUAGE_CODES and user is not None and user.is_authenticated:
        from apps.accounts.services import user_set_language

        user_set_language(user=user, language=language)
    return response


class UserLanguagePasswordResetForm(PasswordResetForm):
    """Django's reset form, writing each email in its recipient's language."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        with translation.override(user_language(context.get("user"))):
            super().send_mail(subject_template_name, email_template_name, context, from_email, to_email, **kwargs)
