from django import template

from apps.environments.selectors import env_answers_pending_review
from apps.ops.selectors_dashboard import platform_overview
from apps.scenarios.selectors import review_queue

register = template.Library()


@register.filter
def session_status_label(value):
    """The label of a session status code (``running`` -> "Running"), in the active language."""
    from apps.environments.models import SessionStatus

    try:
        return SessionStatus(value).label
    except ValueError:
        return value


@register.simple_tag(takes_context=True)
def ops_dashboard(context):
    """Return the dashboard data for platform admins; None for everyone else."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not getattr(user, "is_platform_admin", False):
        return None
    return platform_overview()


@register.simple_tag(takes_context=True)
def review_queue_waiting(context):
    """Return how many submitted versions wait for a platform admin's decision; None for everyone else."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not getattr(user, "is_platform_admin", False):
        return None
    return review_queue().count()


@register.simple_tag(takes_context=True)
def answers_waiting(context):
    """Return how many free-text answers wait for this creator's or admin's decision; None for others."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not getattr(user, "is_staff", False):
        return None
    return len(env_answers_pending_review(user=user))
