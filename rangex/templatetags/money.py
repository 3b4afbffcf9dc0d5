"""Temporary stub (i18ntpl): i18ncore writes the real money filters."""
from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def rm(value):
    return "" if value in (None, "") else f"RM {number_format(value, 2, force_grouping=True)}"


@register.filter
def usd(value):
    return "" if value in (None, "") else f"USD {number_format(value, 2, force_grouping=True)}"
