"""Times of an event on its pages: in the event's time zone, named, with the viewer's local time added by
``static/js/event_times.js``."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.filter
def event_time(value, event):
    """Render ``value`` as ``2030-01-10 09:00 (Asia/Kuala_Lumpur)`` in a <time> the page script extends."""
    if not value:
        return ""
    return format_html(
        '<time datetime="{}" data-event-time data-zone="{}">{}</time>',
        value.isoformat(),
        event.timezone,
        event.local_label(value),
    )
