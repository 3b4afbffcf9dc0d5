"""Template helpers used by every page."""

from __future__ import annotations

from django import forms, template
from django.utils.html import format_html

from rangex.templatetags.money import duration_text

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Write a number of seconds as people read it, in the active language: "1 h 29 min", "12 min", "40 s"."""
    return duration_text(seconds)


@register.filter
def is_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_multi_checkbox(field) -> bool:
    return isinstance(field.field.widget, forms.CheckboxSelectMultiple | forms.RadioSelect)


@register.filter
def bs_widget(field):
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple) and not isinstance(
        widget, forms.CheckboxSelectMultiple
    ):
        css = "form-select"
    elif isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
        css = ""
    else:
        css = "form-control"
    attrs = {}
    existing = widget.attrs.get("class", "")
    classes = " ".join(c for c in (existing, css, "is-invalid" if field.errors else "") if c)
    if classes:
        attrs["class"] = classes
    if field.errors:
        attrs["aria-invalid"] = "true"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    return field.as_widget(attrs=attrs)


@register.simple_tag
def status_badge(status: str, label: str | None = None):
    colours = {
        "running": "success",
        "published": "success",
        "succeeded": "success",
        "approved": "info",
        "starting": "warning",
        "paused": "secondary",
        "stopping": "warning",
        "submitted": "info",
        "queued": "secondary",
        "draft": "secondary",
        "terminated": "dark",
        "archived": "dark",
        "failed": "danger",
        "error": "danger",
        "rejected": "danger",
        "completed": "success",
    }
    key = (status or "").lower()
    return format_html('<span class="badge text-bg-{}">{}</span>', colours.get(key, "secondary"), label or status)
