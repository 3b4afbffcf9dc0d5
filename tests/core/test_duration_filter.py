"""The ``duration`` template filter writes seconds as people read them (issue 17: "5360 seconds left")."""

import pytest

from rangex.templatetags.rangex import duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(5360, "1 h 29 min"), (7200, "2 h"), (720, "12 min"), (59, "59 s"), (0, "0 s"), (-5, "0 s"), (None, "")],
)
def test_duration_reads_as_hours_and_minutes(seconds, text):
    assert duration(seconds) == text
