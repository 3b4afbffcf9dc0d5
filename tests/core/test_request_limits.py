"""The kernel's request bounds on their own: rate settings and bounded JSON."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from rangex.core.parsers import JsonTooDeep, json_loads_bounded
from rangex.env import get_rates

DEFAULTS = {"answer.user": "30/min", "answer.ip": "600/min", "login.ip": "60/min"}


def test_rate_overrides_change_only_what_they_name(monkeypatch):
    monkeypatch.setenv("RANGEX_THROTTLE_RATES", " answer.user = 60/min , login.ip=off ")
    assert get_rates("RANGEX_THROTTLE_RATES", DEFAULTS) == {
        "answer.user": "60/min",
        "answer.ip": "600/min",
        "login.ip": None,
    }


def test_no_overrides_keep_the_defaults(monkeypatch):
    monkeypatch.setenv("RANGEX_THROTTLE_RATES", "")
    assert get_rates("RANGEX_THROTTLE_RATES", DEFAULTS) == DEFAULTS


@pytest.mark.parametrize("raw", ["answer.user", "answer.user=0/min", "answer.user=5/fortnight", "hint.user=5/min"])
def test_malformed_rates_name_the_variable(monkeypatch, raw):
    monkeypatch.setenv("RANGEX_THROTTLE_RATES", raw)
    with pytest.raises(ImproperlyConfigured, match="Environment variable RANGEX_THROTTLE_RATES is malformed"):
        get_rates("RANGEX_THROTTLE_RATES", DEFAULTS)


def test_bounded_json_reads_up_to_the_limit_and_refuses_past_it():
    assert json_loads_bounded("[[[1]]]", max_depth=3) == [[[1]]]
    assert json_loads_bounded('{"a": {"b": []}}', max_depth=3) == {"a": {"b": []}}
    with pytest.raises(JsonTooDeep, match="nested more than 3 levels"):
        json_loads_bounded("[[[[1]]]]", max_depth=3)
    with pytest.raises(JsonTooDeep, match="nested more than 3 levels"):
        json_loads_bounded('{"a": [{"b": [1]}]}', max_depth=3)


def test_bounded_json_survives_what_crashes_the_decoder():
    with pytest.raises(JsonTooDeep):
        json_loads_bounded("[" * 100_000 + "]" * 100_000, max_depth=32)
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        json_loads_bounded('{"x": NaN}', max_depth=32)
