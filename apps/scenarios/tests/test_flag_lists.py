"""Flags as a list of typed flags, graded as CTFd grades them; dynamic values; hint requirements; the migration."""

from __future__ import annotations

import importlib
import math
import re

import pytest

from apps.scenarios.grading import (
    dynamic_value,
    flag_matches,
    grade,
    new_answer_state,
    question_flags,
    question_value,
    take_hint,
    validate_questions,
)
from rangex.core.errors import Conflict

migration = importlib.import_module("apps.scenarios.migrations.0004_flag_lists")


def q(*flags, **extra):
    return {"id": "q", "type": "flag", "prompt": "?", "points": 10, "flags": list(flags), **extra}


def ok(question, answer) -> bool:
    state = new_answer_state(question)
    return grade(
        question=question, state=state, answer=answer, scoring_mode="allOrNothing", hint_mode="free", hints=[]
    ).correct


def static(content, ci=False):
    return {"type": "static", "content": content, "case_insensitive": ci}


def regex(content, ci=False):
    return {"type": "regex", "content": content, "case_insensitive": ci}


def test_any_flag_of_the_list_solves_the_question():
    question = q(static("flag{a}"), static("FLAG{B}", ci=True), regex(r"flag\{c[0-9]+\}"))
    assert ok(question, "flag{a}") and ok(question, "flag{b}") and ok(question, "flag{c12}")
    assert not ok(question, "flag{A}") and not ok(question, "flag{c}")


def test_static_flags_compare_like_ctfd():
    assert flag_matches(static("flag{x}"), "flag{x}")
    assert not flag_matches(static("flag{x}"), "flag{x} ")
    assert flag_matches(static("Flag{X}", ci=True), "fLaG{x}")
    # CTFd lower-cases (it does not case-fold): the German sharp s stays apart from "ss".
    assert not flag_matches(static("stra\u00dfe", ci=True), "strasse")


@pytest.mark.parametrize(
    ("pattern", "ci", "submission", "expected"),
    [
        (r"flag\{[a-z]+\}", False, "flag{abc}", True),
        (r"flag\{[a-z]+\}", False, "flag{abc}tail", False),
        (r"flag\{[a-z]+\}", False, "xflag{abc}", False),
        (r"flag\{[a-z]+\}", True, "FLAG{ABC}", True),
        # re.match takes the first alternative that matches at the start; CTFd then wants the whole text.
        ("a|ab", False, "ab", False),
        ("ab|a", False, "ab", True),
    ],
)
def test_regex_flags_match_from_the_start_and_must_cover_the_whole_submission(pattern, ci, submission, expected):
    assert flag_matches(regex(pattern, ci), submission) is expected
    found = re.match(pattern, submission, re.IGNORECASE if ci else 0)
    assert bool(found and found.group() == submission) is expected


def test_older_single_pattern_questions_are_still_graded_as_before():
    legacy = {"id": "q", "type": "flag", "prompt": "?", "points": 5, "answer": "a|ab", "match": "regex"}
    assert ok(legacy, "ab") and ok(legacy, "a")
    assert ok({"id": "q", "type": "flag", "prompt": "?", "points": 5, "answer": " RX{x} "}, "RX{x}")
    assert question_flags(legacy) == [regex(r"(?:a|ab)\Z")]
    assert validate_questions([legacy], [], scenario_type="challenge") == {}


def test_the_migration_rewrites_single_patterns_into_lists_that_grade_the_same():
    cases = [
        ({"answer": "RX{x}", "match": "exact"}, ["RX{x}", "rx{x}"]),
        ({"answer": "RX{x}", "match": "case_insensitive"}, ["rx{X}", "RX{y}"]),
        ({"answer": "a|ab", "match": "regex"}, ["a", "ab", "abc"]),
    ]
    for old_fields, submissions in cases:
        old = {"id": "q", "type": "flag", "prompt": "?", "points": 1, **old_fields}
        new = migration._to_list(old)
        assert "answer" not in new and "match" not in new and len(new["flags"]) == 1
        for submission in submissions:
            assert ok(new, submission) == ok(old, submission)
        assert migration._to_pattern(new) == old
    dynamic = {"id": "d", "type": "flag", "prompt": "?", "points": 1, "dynamic": True, "match": "exact"}
    assert migration._to_list(dynamic) == dynamic


@pytest.mark.parametrize("solves", [0, 1, 2, 5, 14, 15, 40])
def test_dynamic_values_follow_ctfds_decay_functions(solves):
    initial, decay, minimum = 500, 15, 100
    parabola = math.ceil(((minimum - initial) / decay**2) * solves**2 + initial)
    assert dynamic_value(
        function="logarithmic", initial=initial, decay=decay, minimum=minimum, solves_before=solves
    ) == max(minimum, parabola)
    line = math.ceil(initial - decay * solves)
    assert dynamic_value(function="linear", initial=initial, decay=decay, minimum=minimum, solves_before=solves) == max(
        minimum, line
    )


def test_question_value_is_its_points_unless_it_has_dynamic_scoring():
    scoring = {"function": "logarithmic", "initial": 500, "decay": 0, "minimum": 50}
    assert question_value({"points": 30}, solves_before=9) == 30
    # A decay of 0 counts as 1, as in CTFd: the minimum is reached after one solve.
    assert question_value({"points": 500, "scoring": scoring}, solves_before=1) == 50


def test_flag_lists_and_scoring_are_validated():
    bad = [
        q(),
        q({"type": "glob", "content": "x"}),
        q(regex("(a+)+")),
        q(static("")),
        q(static("x"), scoring={"function": "cubic", "initial": 10, "decay": 1, "minimum": 20}),
    ]
    errors = validate_questions([dict(b, id=f"q{i}") for i, b in enumerate(bad)], [], scenario_type="challenge")
    assert "questions[0].flags" in errors and "questions[1].flags[0].type" in errors
    assert "questions[2].flags[0].content" in errors and "questions[3].flags[0].content" in errors
    assert {"questions[4].scoring.function", "questions[4].scoring.minimum"} <= set(errors)


def test_a_hint_with_requirements_waits_for_them():
    question = q(static("x"))
    base = {"id": "base", "question_id": "q", "text": "Base.", "cost": 0}
    deep = {"id": "deep", "question_id": "q", "text": "Deep.", "cost": 5, "requires": ["base"]}
    with pytest.raises(Conflict, match="Take the hint 'base' first"):
        take_hint(question=question, state=None, hint=deep, hint_mode="penalty")
    state = take_hint(question=question, state=None, hint=base, hint_mode="penalty")
    assert take_hint(question=question, state=state, hint=deep, hint_mode="penalty")["hints_taken"] == ["base", "deep"]
    errors = validate_questions([question], [dict(deep, requires=["nope"]), base], scenario_type="challenge")
    assert errors == {"hints[0].requires": ["No hint has the id 'nope'."]}
