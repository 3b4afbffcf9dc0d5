"""Issue 26's account defects: email defaults that suit learners."""

from __future__ import annotations

import pytest

from apps.accounts.factories import UserFactory
from rangex.core.models import NotificationType

pytestmark = pytest.mark.django_db


def test_a_learner_gets_badges_and_paths_by_email_but_not_reviews_or_budgets():
    learner = UserFactory()
    assert learner.wants_email_for(NotificationType.BADGE) and learner.wants_email_for(NotificationType.PATH)
    assert not learner.wants_email_for(NotificationType.REVIEW)
    assert not learner.wants_email_for(NotificationType.BUDGET)


def test_a_creator_keeps_review_decisions_and_budget_warnings_by_email():
    creator = UserFactory(role_creator=True)
    assert creator.wants_email_for(NotificationType.REVIEW) and creator.wants_email_for(NotificationType.BUDGET)
