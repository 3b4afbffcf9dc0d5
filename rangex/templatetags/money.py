"""Money and durations in the active language: ``{% load money %}``.

- ``{{ amount|rm }}``: Malaysian ringgit, two decimals, grouped: "RM 1,234.50" (English),
  "RM1,234.50" (Malay, as Malaysian prices are written).
- ``{{ amount|usd }}``: US dollars the same way: "USD 12.34" (English), "USD12.34" (Malay); the ISO
  code rather than "$", which alone would be ambiguous next to ringgit.
- ``{{ seconds|duration }}``: "1 h 5 min", "12 min", "40 s" (English); "1 j 5 min", "12 min",
  "40 saat" (Malay); ``{{ seconds|duration_long }}`` spells the units out with plural forms:
  "1 hour 5 minutes" / "1 jam 5 minit".

The currency's place and spacing are a translatable format string ("RM %(amount)s"), the number
is formatted by Django's localisation (the active language's separators, always grouped).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils import formats
from django.utils.numberformat import format as number_format
from django.utils.translation import ngettext, pgettext

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    return number if number.is_finite() else None


def _amount(number: Decimal) -> str:
    return number_format(
        number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        formats.get_format("DECIMAL_SEPARATOR", use_l10n=True),
        decimal_pos=2,
        grouping=formats.get_format("NUMBER_GROUPING", use_l10n=True) or 3,
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR", use_l10n=True),
        force_grouping=True,
        use_l10n=True,
    )


def rm_text(value) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    # Translators: an amount of Malaysian ringgit; Malay writes it without the space ("RM1,234.50").
    return pgettext("money", "RM %(amount)s") % {"amount": _amount(number)}


def usd_text(value) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    # Translators: an amount of US dollars; Malay writes it without the space ("USD12.34").
    return pgettext("money", "USD %(amount)s") % {"amount": _amount(number)}


def _seconds(value) -> int | None:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


def duration_text(value) -> str:
    """Short form, for tables and countdowns: "1 h 5 min", "12 min", "40 s"."""
    total = _seconds(value)
    if total is None:
        return ""
    if total < 60:
        return pgettext("duration", "%(seconds)s s") % {"seconds": total}
    hours, minutes = divmod(total // 60, 60)
    if not hours:
        return pgettext("duration", "%(minutes)s min") % {"minutes": minutes}
    if not minutes:
        return pgettext("duration", "%(hours)s h") % {"hours": hours}
    return pgettext("duration", "%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}


def duration_long_text(value) -> str:
    """Long form, for sentences: "1 hour 5 minutes", "12 minutes", "40 seconds"."""
    total = _seconds(value)
    if total is None:
        return ""
    if total < 60:
        return ngettext("%(count)s second", "%(count)s seconds", total) % {"count": total}
    hours, minutes = divmod(total // 60, 60)
    parts = []
    if hours:
        parts.append(ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours})
    if minutes or not hours:
        parts.append(ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes})
    return " ".join(parts)


@register.filter
def rm(value) -> str:
    return rm_text(value)


@register.filter
def usd(value) -> str:
    return usd_text(value)


@register.filter
def duration(value) -> str:
    return duration_text(value)


@register.filter
def duration_long(value) -> str:
    return duration_long_text(value)
