"""Request body parsers for the API: every body is read with a size cap, JSON with a depth cap.

Python's JSON decoder recurses once per level and fails with a RecursionError (a 500) somewhere
near a thousand levels; a body past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` would be read whole. These
parsers refuse both with the API's error shape: 413 for a body that is too large, 400 for JSON
nested deeper than ``RANGEX_JSON_MAX_DEPTH`` or not valid at all. They are the API's default
parsers (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import QueryDict
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from rangex.core.errors import RequestTooLarge


class JsonTooDeep(ValueError):
    """JSON nested deeper than the configured limit."""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number.")


def _deeper_than(value: Any, limit: int) -> bool:
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def json_loads_bounded(text: str | bytes, *, max_depth: int | None = None) -> Any:
    """Parse JSON, refusing NaN and infinity and anything nested more than ``max_depth`` levels.

    Raise ``JsonTooDeep`` (a ValueError) past the limit and ``ValueError`` for invalid JSON, so a
    caller that already catches ``ValueError`` for bad JSON handles both.
    """
    limit = settings.RANGEX_JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        # The decoder gives up near the interpreter's recursion limit, long past ours.
        raise JsonTooDeep(_("The JSON is nested more than %(limit)s levels deep.") % {"limit": limit}) from None
    if _deeper_than(value, limit):
        raise JsonTooDeep(_("The JSON is nested more than %(limit)s levels deep.") % {"limit": limit})
    return value


def read_body(stream) -> bytes:
    """Read a request body, refusing one larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with a 413."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    data = stream.read(limit + 1) if limit is not None else stream.read()
    if limit is not None and len(data) > limit:
        raise RequestTooLarge(
            _("The request body is larger than %(value)s MB; send less at once.")
            % {"value": format(limit / (1024 * 1024), "g")}
        )
    return data


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = read_body(stream).decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(_("The request body is not valid %(encoding)s text.") % {"encoding": encoding}) from None
        try:
            return json_loads_bounded(text)
        except JsonTooDeep as exc:
            raise ParseError(str(exc)) from None
        except ValueError as exc:
            raise ParseError(_("The request body is not valid JSON (%(error)s).") % {"error": exc}) from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        return QueryDict(read_body(stream), encoding=encoding)
