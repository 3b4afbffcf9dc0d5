from django.forms.renderers import TemplatesSetting


class RangexFormRenderer(TemplatesSetting):
    """Render every form with Bootstrap markup, labels, help and errors tied to their inputs."""

    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"
