"""A form field that picks a scenario by name, with the browser's own autocomplete (a ``<datalist>``).

Paths and badges point at a scenario *version*, but any version of the scenario counts, so an
admin picks the scenario by its title and the field stores its published version. The value typed
may be the offered "Title (slug)", the slug, the exact title, or a version id (forms posted by
scripts and older tests).
"""

from __future__ import annotations

import re
import uuid

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy

from apps.scenarios.models import ScenarioType, ScenarioVersion, VersionStatus

LABEL_RE = re.compile(r"\(([a-z0-9-]+)\)\s*$")


def picker_label(version: ScenarioVersion) -> str:
    return f"{version.title} ({version.scenario.slug})"


def _published():
    return (
        ScenarioVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .exclude(scenario_type=ScenarioType.EVENT_LAB)
        .select_related("scenario")
        .order_by("title")
    )


class DatalistInput(forms.TextInput):
    """A text input with the published scenarios offered as suggestions."""

    def render(self, name, value, attrs=None, renderer=None):
        list_id = f"{(attrs or {}).get('id') or name}-choices"
        attrs = {**(attrs or {}), "list": list_id, "autocomplete": "off", "size": 40}
        if isinstance(value, ScenarioVersion):
            value = picker_label(value)
        elif value and _is_uuid(str(value)):
            version = ScenarioVersion.objects.select_related("scenario").filter(pk=value).first()
            value = picker_label(version) if version else value
        options = format_html_join("", '<option value="{}"></option>', ((picker_label(v),) for v in _published()))
        return format_html("{}<datalist id=\"{}\">{}</datalist>", super().render(name, value, attrs, renderer),
                           list_id, options)  # fmt: skip


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


class ScenarioPickerField(forms.Field):
    """Pick a scenario by name; clean to its published version (or the version whose id was posted)."""

    widget = DatalistInput
    default_error_messages = {
        "unknown": gettext_lazy("No published scenario is called “%(value)s”. Pick one of the suggestions.")
    }

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, ScenarioVersion):
            return value
        text = str(value).strip()
        if _is_uuid(text):
            version = ScenarioVersion.objects.select_related("scenario").filter(pk=text).first()
        else:
            match = LABEL_RE.search(text)
            published = _published()
            version = (
                published.filter(scenario__slug=match.group(1)).first()
                if match
                else (published.filter(scenario__slug=text).first() or published.filter(title__iexact=text).first())
            )
        if version is None:
            raise forms.ValidationError(self.error_messages["unknown"], code="unknown", params={"value": text})
        return version

    def prepare_value(self, value):
        return value
