"""Template helpers of the scenario catalog: star icons and category colours."""

from __future__ import annotations

import zlib
from decimal import Decimal

from django import template

register = template.Library()

# Bootstrap colours that read well behind white text, in a fixed order so a category keeps its colour.
PALETTE = ["primary", "success", "danger", "warning", "info", "secondary", "dark"]


@register.filter
def category_colour(category: str) -> str:
    """Return a stable Bootstrap colour name for a category."""
    return PALETTE[zlib.crc32((category or "").lower().encode()) % len(PALETTE)]


@register.filter
def star_icons(average) -> list[str]:
    """Return five Bootstrap icon names showing ``average`` rounded to the nearest half star."""
    halves = int((Decimal(str(average or 0)) * 2).to_integral_value())
    icons = []
    for star in range(1, 6):
        if halves >= star * 2:
            icons.append("bi-star-fill")
        elif halves == star * 2 - 1:
            icons.append("bi-star-half")
        else:
            icons.append("bi-star")
    return icons


DIFFICULTY_COLOURS = {"beginner": "success", "intermediate": "info", "advanced": "warning", "expert": "danger"}


@register.filter
def difficulty_colour(difficulty: str) -> str:
    return DIFFICULTY_COLOURS.get(difficulty, "secondary")
