"""Strings of Django and its add-ons that their own Malay catalogs lack, translated in ours.

Django 5.2's Malay catalogs miss some newer admin and auth strings (the admin index's hidden table
headings, "Skip to main content", the password-length validator), and django-celery-beat has no
Malay at all. Marked here (never called), ``makemessages`` copies them into locale/, whose catalog
Django consults before the packages' own, so the admin and the forms read in Malay throughout.
Add a string here when the Malay walk (tests/e2e/test_malay_browser.py) finds one on a page.
"""

# Django's msgids use the typographic apostrophe (U+2019); they must match character for character.
# ruff: noqa: RUF001

from django.utils.translation import gettext_noop, ngettext_lazy

DJANGO_ADMIN = (
    gettext_noop("Skip to main content"),
    gettext_noop("Breadcrumbs"),
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    gettext_noop("Select this object for an action - {}"),
    gettext_noop("Select all objects on this page for an action"),
    gettext_noop("View selected %(model)s"),
    gettext_noop("Error:"),
    gettext_noop("Added:"),
    gettext_noop("Changed:"),
    gettext_noop("Deleted:"),
    gettext_noop("Hide counts"),
    gettext_noop("Show counts"),
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    gettext_noop("Forgotten your login credentials?"),
    gettext_noop("In case you’ve forgotten, you are:"),
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    ngettext_lazy("Please correct the error below.", "Please correct the errors below.", "count"),
    ngettext_lazy("entry", "entries", "count"),
)

DJANGO_AUTH = (
    gettext_noop("Set password"),
    gettext_noop("Reset password"),
    gettext_noop("Set password: %s"),
    gettext_noop("Enabled"),
    gettext_noop("Disabled"),
    gettext_noop("Password-based authentication"),
    gettext_noop("Enable password-based authentication"),
    gettext_noop("Disable password-based authentication"),
    gettext_noop("Password-based authentication was disabled."),
    gettext_noop("This action will <strong>enable</strong> password-based authentication for this user."),
    gettext_noop("Enable password-based authentication for this user by setting a password."),
    gettext_noop("Raw passwords are not stored, so there is no way to see the user’s password."),
    gettext_noop("Conflicting form data submitted. Please try again."),
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "count",
    ),
)

# django-celery-beat's models, listed on the admin index.
CELERY_BEAT = (
    gettext_noop("Periodic Tasks"),
    gettext_noop("periodic task"),
    gettext_noop("periodic tasks"),
    gettext_noop("clocked"),
    gettext_noop("crontab"),
    gettext_noop("crontabs"),
    gettext_noop("interval"),
    gettext_noop("intervals"),
    gettext_noop("solar event"),
    gettext_noop("solar events"),
)
