"""The review workflow's notices: the admins hear of a submitted version, its creator of the decision.

Titles and bodies are lazy, so each recipient reads them in their own language.
"""

from __future__ import annotations

from django.db import models, transaction
from django.urls import reverse
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from apps.accounts.models import CreatorPreferences, User
from apps.scenarios.models import ScenarioVersion
from rangex.core.models import NotificationType
from rangex.core.notifications import notification_send


def notify_creator(version: ScenarioVersion, *, preference: str, title: str, body: str) -> None:
    """Tell the version's creator about a review decision, after commit, if they want to hear it."""
    creator = version.scenario.created_by_user
    prefs = CreatorPreferences.objects.filter(user=creator).first()
    if prefs is not None and not getattr(prefs, preference):
        return
    link = reverse("admin:scenarios_scenarioversion_change", args=[version.pk])
    transaction.on_commit(
        lambda: notification_send(user=creator, type=NotificationType.REVIEW, title=title, body=body, link=link)
    )


def notify_reviewers(version: ScenarioVersion, *, actor, resubmitted: bool) -> None:
    """Tell every admin (but the submitter) that a version waits for review: on the page, and by email
    when their notification preferences ask for review emails. Sent after commit."""
    admins = [
        u
        for u in User.objects.filter(is_active=True).filter(models.Q(role_admin=True) | models.Q(is_superuser=True))
        if u.pk != getattr(actor, "pk", None)
    ]
    if resubmitted:
        title = format_lazy(gettext_lazy("Resubmitted for review: {version}"), version=version)
        body = format_lazy(
            gettext_lazy(
                "{who} resubmitted {version} ({slug}) for review. "
                "Open the review queue to compare it with the previous version, then approve or reject it."
            ),
            who=actor.public_name,
            version=version,
            slug=version.scenario.slug,
        )
    else:
        title = format_lazy(gettext_lazy("Submitted for review: {version}"), version=version)
        body = format_lazy(
            gettext_lazy(
                "{who} submitted {version} ({slug}) for review. "
                "Open the review queue to compare it with the previous version, then approve or reject it."
            ),
            who=actor.public_name,
            version=version,
            slug=version.scenario.slug,
        )
    link = reverse("admin:scenarios_scenarioversion_change", args=[version.pk])

    def send():
        for admin in admins:
            notification_send(user=admin, type=NotificationType.REVIEW, title=title, body=body, link=link)

    transaction.on_commit(send)
