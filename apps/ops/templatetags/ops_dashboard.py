from django import template

from apps.ops.selectors_dashboard import platform_overview

register = template.Library()


@register.simple_tag(takes_context=True)
def ops_dashboard(context):
    """Return the dashboard data for platform admins; None for everyone else."""
    user = getattr(context.get("request"), "user", None)
    if user is None or not getattr(user, "is_platform_admin", False):
        return None
    return platform_overview()
