"""The grading engine: pure functions, no database."""

from __future__ import annotations

import pytest

from apps.scenarios.grading import (
    AlreadySolved,
    HintsDisabled,
    OutOfAttempts,
    dynamic_flag,
    grade,
    new_answer_state,
    review_free_text,
    score_of,
    take_hint,
    validate_questions,
    value_after_hints,
)
from rangex.core.errors import Conflict, ValidationFailed


def flag_q(**kw):
    return {
        "id": "q1",
        "type": "flag",
        "prompt": "Find it",
        "points": 100,
        "max_attempts": 3,
        "answer": "FLAG{abc}",
    } | kw


def mc_q(**kw):
    return {
        "id": "q2",
        "type": "multiple_choice",
        "prompt": "Which are ports of SSH and HTTP?",
        "points": 100,
        "max_attempts": None,
        "options": ["22", "80", "443", "25"],
        "correct": [0, 1],
    } | kw


def num_q(**kw):
    return {"id": "q3", "type": "numeric", "prompt": "How many hosts?", "points": 10, "answer": 42, "tolerance": 2} | kw


def run(question, answer, *, state=None, scoring="allOrNothing", hint_mode="disabled", hints=(), expected=None):
    return grade(
        question=question,
        state=state if state is not None else new_answer_state(question),
        answer=answer,
        scoring_mode=scoring,
        hint_mode=hint_mode,
        hints=list(hints),
        expected_flag=expected,
    )


# --- new_answer_state and score_of ---------------------------------------------------------------


def test_new_answer_state_has_the_contract_keys():
    state = new_answer_state(flag_q())
    assert state == {
        "correct": False,
        "attempts_made": 0,
        "remaining_attempts": 3,
        "earned_points": 0,
        "submitted_answer": None,
        "hints_taken": [],
        "pending_review": False,
    }
    assert new_answer_state(flag_q(max_attempts=None))["remaining_attempts"] is None


def test_score_of_sums_earned_points_of_dict_or_list():
    states = {"q1": {"earned_points": 5}, "q2": {"earned_points": 7}, "q3": new_answer_state(flag_q())}
    assert score_of(states) == 12
    assert score_of(list(states.values())) == 12
    assert score_of({}) == 0


# --- flags ----------------------------------------------------------------------------------------


def test_exact_flag_correct_earns_points_and_strips_whitespace():
    result = run(flag_q(), "  FLAG{abc}\n")
    assert result.correct and result.points_awarded == 100
    assert result.state["correct"] and result.state["earned_points"] == 100
    assert result.state["attempts_made"] == 1 and result.state["remaining_attempts"] == 2
    assert result.state["submitted_answer"] == "FLAG{abc}"


def test_exact_flag_is_case_sensitive():
    result = run(flag_q(), "flag{abc}")
    assert not result.correct and result.state["earned_points"] == 0
    assert "2 attempts left" in result.message


def test_case_insensitive_flag():
    assert run(flag_q(match="case_insensitive"), "flag{ABC}").correct


def test_regex_flag_uses_fullmatch():
    q = flag_q(match="regex", answer=r"FLAG\{[0-9a-f]{4}\}")
    assert run(q, "FLAG{beef}").correct
    assert not run(q, "xFLAG{beef}").correct
    assert not run(q, "FLAG{beef}x").correct


def test_regex_flag_refuses_very_long_answers_without_using_an_attempt():
    q = flag_q(match="regex", answer=r"FLAG\{.*\}")
    with pytest.raises(ValidationFailed, match="too long"):
        run(q, "FLAG{" + "a" * 500 + "}")


def test_grade_does_not_change_the_given_state():
    state = new_answer_state(flag_q())
    run(flag_q(), "wrong", state=state)
    assert state["attempts_made"] == 0


def test_attempts_run_out_then_conflict():
    q = flag_q(max_attempts=2)
    state = run(q, "a").state
    state = run(q, "b", state=state).state
    assert state["remaining_attempts"] == 0
    assert "0 attempts left" in run(flag_q(max_attempts=3), "x", state=state | {"remaining_attempts": 1}).message
    with pytest.raises(OutOfAttempts) as exc:
        run(q, "FLAG{abc}", state=state)
    assert exc.value.status_code == 409
    assert isinstance(exc.value, Conflict)


def test_unlimited_attempts_never_run_out():
    q = flag_q(max_attempts=None)
    state = new_answer_state(q)
    for _ in range(20):
        state = run(q, "nope", state=state).state
    assert state["attempts_made"] == 20 and state["remaining_attempts"] is None
    assert run(q, "FLAG{abc}", state=state).correct


def test_correct_answer_again_is_refused_as_already_solved():
    state = run(flag_q(), "FLAG{abc}").state
    with pytest.raises(AlreadySolved, match="already solved"):
        run(flag_q(), "FLAG{abc}", state=state)


@pytest.mark.parametrize("answer", [None, 42, ["FLAG{abc}"], "", "   ", "x" * 1001])
def test_malformed_flag_answers_are_refused_without_using_an_attempt(answer):
    with pytest.raises(ValidationFailed) as exc:
        run(flag_q(), answer)
    assert exc.value.fields["answer"]


def test_dynamic_flag_is_deterministic_and_per_session():
    a = dynamic_flag(secret=b"k", session_id="s1", question_id="q1")
    assert a == dynamic_flag(secret="k", session_id="s1", question_id="q1")
    assert a != dynamic_flag(secret=b"k", session_id="s2", question_id="q1")
    assert a != dynamic_flag(secret=b"k", session_id="s1", question_id="q2")
    assert a.startswith("RX{") and a.endswith("}") and len(a) == 36


def test_dynamic_question_compares_with_the_expected_flag():
    q = flag_q(dynamic=True, answer=None, flag_machine="web", flag_path="/root/flag.txt")
    expected = dynamic_flag(secret=b"k", session_id="s1", question_id="q1")
    assert run(q, expected, expected=expected).correct
    other = dynamic_flag(secret=b"k", session_id="s2", question_id="q1")
    assert not run(q, other, expected=expected).correct
    with pytest.raises(ValidationFailed, match="per session"):
        run(q, expected)


# --- choices --------------------------------------------------------------------------------------


def test_single_choice():
    q = {"id": "s", "type": "single_choice", "prompt": "?", "points": 5, "options": ["a", "b", "c"], "correct": [2]}
    assert run(q, 2).correct
    assert run(q, "2").correct
    assert run(q, [2]).correct
    assert not run(q, 1).correct
    for bad in (3, -1, "x", [1, 2], None, True):
        with pytest.raises(ValidationFailed):
            run(q, bad)


def test_multiple_choice_all_or_nothing():
    assert run(mc_q(), [1, 0]).correct
    result = run(mc_q(), [0])
    assert not result.correct and result.state["earned_points"] == 0


def test_multiple_choice_partial_credit_is_right_minus_wrong_over_correct_floored_at_zero():
    half = run(mc_q(), [0], scoring="partial")
    assert not half.correct and half.state["earned_points"] == 50 and "Partly right" in half.message
    assert run(mc_q(), [0, 2], scoring="partial").state["earned_points"] == 0
    assert run(mc_q(), [2, 3], scoring="partial").state["earned_points"] == 0
    assert run(mc_q(), [0, 1], scoring="partial").correct


def test_partial_keeps_the_best_score_and_allows_retry():
    state = run(mc_q(), [0], scoring="partial").state
    state = run(mc_q(), [2, 3], scoring="partial", state=state).state
    assert state["earned_points"] == 50 and not state["correct"]
    result = run(mc_q(), [0, 1], scoring="partial", state=state)
    assert result.correct and result.state["earned_points"] == 100 and result.points_awarded == 50


@pytest.mark.parametrize("answer", [[], [0, 0], [9], "0,1", None])
def test_malformed_multiple_choice(answer):
    with pytest.raises(ValidationFailed):
        run(mc_q(), answer)


# --- numeric --------------------------------------------------------------------------------------


def test_numeric_within_tolerance():
    assert run(num_q(), 44).correct
    assert run(num_q(), "40").correct
    assert run(num_q(), "41,5").correct
    assert not run(num_q(), 45).correct


def test_numeric_partial_half_points_within_twice_tolerance():
    result = run(num_q(), 45, scoring="partial")
    assert not result.correct and result.state["earned_points"] == 5
    assert run(num_q(), 47, scoring="partial").state["earned_points"] == 0
    assert run(num_q(tolerance=0), 43, scoring="partial").state["earned_points"] == 0


@pytest.mark.parametrize("answer", ["abc", None, "nan", "inf", True, [1], "1" * 100])
def test_malformed_numeric(answer):
    with pytest.raises(ValidationFailed, match="number"):
        run(num_q(), answer)


# --- free text ------------------------------------------------------------------------------------


def test_free_text_goes_to_review_and_can_be_accepted():
    q = {"id": "f", "type": "free_text", "prompt": "Explain", "points": 20, "max_attempts": 2}
    result = run(q, "Because the cookie was not signed.")
    assert result.pending_review and not result.correct
    assert result.state["pending_review"] and result.state["remaining_attempts"] == 1
    accepted = review_free_text(question=q, state=result.state, accepted=True, hint_mode="free", hints=[])
    assert accepted["correct"] and accepted["earned_points"] == 20 and not accepted["pending_review"]
    refused = review_free_text(question=q, state=result.state, accepted=False, hint_mode="free", hints=[])
    assert not refused["correct"] and refused["earned_points"] == 0
    with pytest.raises(Conflict):
        review_free_text(question=q, state=accepted, accepted=True, hint_mode="free", hints=[])


# --- hints ----------------------------------------------------------------------------------------

HINTS = [
    {"id": "h1", "question_id": "q1", "text": "Look at robots.txt", "cost": 30},
    {"id": "h2", "question_id": "q1", "text": "It is base64", "cost": 90},
    {"id": "h3", "question_id": "q2", "text": "Other question", "cost": 10},
]


def test_take_hint_refused_when_disabled():
    with pytest.raises(HintsDisabled, match="disabled"):
        take_hint(question=flag_q(), state=None, hint=HINTS[0], hint_mode="disabled")


def test_take_hint_of_another_question_is_refused():
    with pytest.raises(ValidationFailed, match="another question"):
        take_hint(question=flag_q(), state=None, hint=HINTS[2], hint_mode="free")


def test_take_hint_twice_records_it_once():
    state = take_hint(question=flag_q(), state=None, hint=HINTS[0], hint_mode="penalty")
    state = take_hint(question=flag_q(), state=state, hint=HINTS[0], hint_mode="penalty")
    assert state["hints_taken"] == ["h1"]


def test_penalty_hint_cost_is_taken_from_the_reward():
    state = take_hint(question=flag_q(), state=None, hint=HINTS[0], hint_mode="penalty")
    result = run(flag_q(), "FLAG{abc}", state=state, hint_mode="penalty", hints=HINTS)
    assert result.state["earned_points"] == 70


def test_penalty_never_goes_below_zero():
    state = take_hint(question=flag_q(), state=None, hint=HINTS[0], hint_mode="penalty")
    state = take_hint(question=flag_q(), state=state, hint=HINTS[1], hint_mode="penalty")
    result = run(flag_q(), "FLAG{abc}", state=state, hint_mode="penalty", hints=HINTS)
    assert result.correct and result.state["earned_points"] == 0


def test_value_after_hints_is_what_a_solve_would_still_earn():
    state = take_hint(question=flag_q(), state=None, hint=HINTS[0], hint_mode="penalty")
    assert value_after_hints(question=flag_q(), state=state, hints=HINTS, hint_mode="penalty") == 70
    assert value_after_hints(question=flag_q(), state=state, hints=HINTS, hint_mode="free") == 100
    state = take_hint(question=flag_q(), state=state, hint=HINTS[1], hint_mode="penalty")
    assert value_after_hints(question=flag_q(), state=state, hints=HINTS, hint_mode="penalty") == 0


def test_free_hints_cost_nothing():
    state = take_hint(question=flag_q(), state=None, hint=HINTS[1], hint_mode="free")
    assert run(flag_q(), "FLAG{abc}", state=state, hint_mode="free", hints=HINTS).state["earned_points"] == 100


def test_penalty_applies_to_partial_credit():
    q = mc_q(id="q1")
    state = take_hint(question=q, state=None, hint=HINTS[0], hint_mode="penalty")
    assert run(q, [0], state=state, scoring="partial", hint_mode="penalty", hints=HINTS).state["earned_points"] == 20


# --- validate_questions ---------------------------------------------------------------------------


def good_questions():
    return [
        flag_q(),
        mc_q(),
        num_q(),
        {"id": "q4", "type": "single_choice", "prompt": "?", "points": 1, "options": ["a", "b"], "correct": [0]},
        flag_q(id="q5", match="regex", answer=r"FLAG\{\d+\}"),
        flag_q(id="q6", dynamic=True, answer=None, flag_machine="web", flag_path="/root/flag.txt"),
    ]


def test_valid_questions_have_no_errors():
    assert validate_questions(good_questions(), HINTS[:2], scenario_type="challenge") == {}


def test_open_lab_may_have_no_questions_but_a_challenge_may_not():
    assert validate_questions([], [], scenario_type="open_lab") == {}
    assert validate_questions(None, None, scenario_type="challenge") == {
        "questions": ["A scored scenario needs at least one question."]
    }


def test_free_text_needs_manual_validation_mode():
    q = [{"id": "f", "type": "free_text", "prompt": "Explain", "points": 5}]
    errors = validate_questions(q, [], scenario_type="challenge")
    assert "manual" in errors["questions[0].type"][0]
    assert validate_questions(q, [], scenario_type="challenge", validation_mode="manual") == {}


@pytest.mark.parametrize(
    ("question", "key", "fragment"),
    [
        ({"type": "flag", "prompt": "p", "answer": "x"}, "questions[0].id", "id"),
        (flag_q(type="essay"), "questions[0].type", "Choose one of"),
        (flag_q(prompt=" "), "questions[0].prompt", "Write the question"),
        (flag_q(points=-1), "questions[0].points", "whole number"),
        (flag_q(points=True), "questions[0].points", "whole number"),
        (flag_q(max_attempts=0), "questions[0].max_attempts", "at least one attempt"),
        (flag_q(answer=""), "questions[0].answer", "Give the flag"),
        (flag_q(match="glob"), "questions[0].match", "Choose one of"),
        (flag_q(match="regex", answer="FLAG{(unclosed"), "questions[0].answer", "not a valid regular expression"),
        (flag_q(match="regex", answer="(a+)+$"), "questions[0].answer", "Nested quantifiers"),
        (flag_q(match="regex", answer="a" * 400), "questions[0].answer", "at most"),
        (flag_q(dynamic=True, flag_path="/root/flag"), "questions[0].flag_machine", "machine"),
        (flag_q(dynamic=True, flag_machine="m", flag_path="../x"), "questions[0].flag_path", "absolute path"),
        (flag_q(dynamic="yes"), "questions[0].dynamic", "true or false"),
        (mc_q(options=["only"]), "questions[0].options", "at least two"),
        (mc_q(options=["a", ""]), "questions[0].options[1]", "non-empty"),
        (mc_q(correct=[5]), "questions[0].correct", "between 0 and 3"),
        (mc_q(correct=[1, 1]), "questions[0].correct", "twice"),
        (mc_q(correct=[]), "questions[0].correct", "at least one"),
        (mc_q(correct="0"), "questions[0].correct", "indexes"),
        (mc_q(type="single_choice"), "questions[0].correct", "exactly one"),
        (num_q(answer="42"), "questions[0].answer", "expected number"),
        (num_q(tolerance=-1), "questions[0].tolerance", "0 or more"),
        ("not a dict", "questions[0]", "object"),
    ],
)
def test_validate_questions_messages(question, key, fragment):
    errors = validate_questions([question], [], scenario_type="challenge")
    assert key in errors, errors
    assert any(fragment in m for m in errors[key]), errors[key]


def test_duplicate_ids_and_bad_hints():
    questions = [flag_q(), flag_q()]
    hints = [
        {"id": "h1", "question_id": "nope", "text": "t", "cost": 1},
        {"id": "h1", "question_id": "q1", "text": "", "cost": -3},
        "x",
    ]
    errors = validate_questions(questions, hints, scenario_type="challenge")
    assert "used by another question" in errors["questions[1].id"][0]
    assert "hints[0].question_id" in errors
    assert "used by another hint" in errors["hints[1].id"][0]
    assert errors["hints[1].text"] == ["Write the hint."]
    assert "hints[1].cost" in errors
    assert errors["hints[2]"] == ["Each hint must be an object."]


def test_a_hint_naming_its_question_with_a_list_is_an_error_not_a_crash():
    hints = [{"id": "h1", "question_id": ["q1"], "text": "t", "cost": 0}]
    errors = validate_questions([flag_q()], hints, scenario_type="challenge")
    assert errors["hints[0].question_id"] == ["Name the id of one of this version's questions."]


def test_questions_not_a_list():
    errors = validate_questions({"a": 1}, "x", scenario_type="open_lab")
    assert errors == {"questions": ["Questions must be a list."], "hints": ["Hints must be a list."]}
