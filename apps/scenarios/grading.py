"""The grading engine: check question definitions, grade answers, take hints, score.

Pure domain code: no database, no Django models. A question and a hint are the JSON dicts stored
on ``ScenarioVersion.questions`` / ``.hints`` (shapes below); an answer state is the dict
``new_answer_state`` returns, and every function returns a new state rather than changing the one
it was given.

The JSON shapes (the contract a question editor writes and ``validate_questions`` checks):

- Every question: ``{"id": "q1", "type": "flag" | "single_choice" | "multiple_choice" | "numeric" |
  "free_text", "prompt": "...", "points": 100, "max_attempts": null | 1..}``, plus an optional
  ``"scoring"`` (below).
- A flag question holds a LIST of typed flags; a submission that matches any one of them is right::

      "flags": [
        {"type": "static", "content": "flag{exact}", "case_insensitive": false},
        {"type": "static", "content": "flag{Any_Case}", "case_insensitive": true},
        {"type": "regex", "content": "flag\\{[0-9]{4}\\}", "case_insensitive": false}
      ]

  graded exactly as CTFd grades its flag classes: the submission is stripped of surrounding
  whitespace; a static flag compares the whole text (lower-cased on both sides when
  case-insensitive), a regex flag must match from the first character and the text it matches must
  be the whole submission (``re.match`` and ``group() == submission``, with ``re.IGNORECASE`` when
  case-insensitive). ``case_insensitive`` may be left out (false).
- A per-session flag instead says ``"dynamic": true, "match": "exact" | "case_insensitive",
  "flag_machine": "<machine>", "flag_path": "/abs/path"`` and has no ``flags``.
- The older single-pattern shape ``"answer": "...", "match": "exact" | "case_insensitive" |
  "regex"`` stays readable (``question_flags`` turns it into the list); migration 0003 rewrote
  stored questions into the list.
- Choice questions: ``"options": ["a", "b"], "correct": [1]``; numeric: ``"answer": 42,
  "tolerance": 0``; free text needs the version's validation mode "manual".
- ``"scoring": {"function": "logarithmic" | "linear", "initial": 500, "decay": 15, "minimum": 100}``
  makes a question's value fall with every solve, as CTFd's dynamic challenges do (see
  ``dynamic_value``); ``points`` then equals ``initial``. Events count the solves; practice labs,
  which have no competition, award ``initial``.
- A hint: ``{"id": "h1", "question_id": "q1", "text": "...", "cost": 0, "title": "" (optional),
  "requires": ["h0"] (optional: hints that must be taken first)}``.

Scoring rules:

- ``allOrNothing``: a correct answer earns the question's points, anything else earns 0.
- ``partial``: a multiple-choice answer earns ``points * max(0, (right picks - wrong picks) / number
  of correct options)`` (rounded down); a numeric answer outside the tolerance but within twice the
  tolerance earns half the points (rounded down). Only a fully correct answer marks the question
  solved, so a solver with attempts left may try again; the best partial score is kept.
- Hints: with ``hint_mode`` "penalty" the costs of the hints taken for a question are subtracted
  from what that question earns, never below 0, so taking a hint never costs more than the question
  is worth and a solver can always afford one. With "free" hints cost nothing; with "disabled"
  ``take_hint`` refuses.

Attempts: a graded wrong answer uses one attempt; a malformed answer (wrong type, out-of-range
option, too long) is refused with ValidationFailed and uses none. With no attempts left
``OutOfAttempts`` (409) is raised; answering a solved question again raises ``AlreadySolved`` (409).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from dataclasses import dataclass
from typing import Any

from rangex.core.errors import Conflict, ValidationFailed

QUESTION_TYPES = ("flag", "single_choice", "multiple_choice", "numeric", "free_text")
FLAG_MATCHES = ("exact", "case_insensitive", "regex")
FLAG_TYPES = ("static", "regex")
DECAY_FUNCTIONS = ("logarithmic", "linear")
MAX_FLAGS = 50
SCORING_MODES = ("allOrNothing", "partial")
HINT_MODES = ("disabled", "free", "penalty")

ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_POINTS = 100_000
MAX_FLAG_LENGTH = 500
MAX_REGEX_PATTERN_LENGTH = 300
# Python's re has no timeout; a short subject bounds the work a badly written pattern can do.
MAX_REGEX_ANSWER_LENGTH = 200
MAX_ANSWER_LENGTH = 1_000
MAX_FREE_TEXT_LENGTH = 20_000
MAX_OPTIONS = 26
# A group that contains a quantifier and is itself quantified, e.g. "(a+)+" or "(\w*)*".
NESTED_QUANTIFIER_RE = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,\d*\})")


class OutOfAttempts(Conflict):
    code = "out_of_attempts"


class AlreadySolved(Conflict):
    code = "already_solved"


class HintsDisabled(Conflict):
    code = "hints_disabled"


@dataclass(frozen=True)
class GradeResult:
    """The outcome of one submission: the new state, whether it was right, and what to tell the solver."""

    state: dict[str, Any]
    correct: bool
    message: str
    points_awarded: int = 0
    pending_review: bool = False


# --- Validation of question definitions ---------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) and math.isfinite(value)


def regex_problem(pattern: Any) -> str | None:
    """Return why ``pattern`` cannot be a regex flag, or None when it is usable."""
    if not isinstance(pattern, str) or not pattern:
        return "Give the regular expression the flag must match."
    if len(pattern) > MAX_REGEX_PATTERN_LENGTH:
        return f"A regex flag may be at most {MAX_REGEX_PATTERN_LENGTH} characters long."
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"This is not a valid regular expression: {exc}."
    if NESTED_QUANTIFIER_RE.search(pattern):
        return "Nested quantifiers such as (a+)+ can make matching very slow; rewrite the pattern without them."
    return None


def _validate_flag_list(flags: Any, at: str, add) -> None:
    if not isinstance(flags, list) or not flags:
        add(f"{at}.flags", "Give at least one flag: a list of {type, content, case_insensitive}.")
        return
    if len(flags) > MAX_FLAGS:
        add(f"{at}.flags", f"Give at most {MAX_FLAGS} flags.")
    for j, flag in enumerate(flags):
        where = f"{at}.flags[{j}]"
        if not isinstance(flag, dict):
            add(where, "Each flag is an object with type, content and case_insensitive.")
            continue
        unknown = sorted(set(flag) - {"type", "content", "case_insensitive"}, key=str)
        if unknown:
            add(where, f"Unknown key(s): {', '.join(map(str, unknown))}.")
        ftype = flag.get("type", "static")
        if ftype not in FLAG_TYPES:
            add(f"{where}.type", f"Choose one of: {', '.join(FLAG_TYPES)}.")
            continue
        if not isinstance(flag.get("case_insensitive", False), bool):
            add(f"{where}.case_insensitive", "Use true or false.")
        content = flag.get("content")
        if ftype == "regex":
            problem = regex_problem(content)
            if problem:
                add(f"{where}.content", problem)
        elif not isinstance(content, str) or not content.strip():
            add(f"{where}.content", "Give the flag solvers must submit.")
        elif len(content) > MAX_FLAG_LENGTH:
            add(f"{where}.content", f"A flag may be at most {MAX_FLAG_LENGTH} characters long.")


def _validate_scoring(q: dict, at: str, add) -> None:
    scoring = q.get("scoring")
    if scoring is None:
        return
    if not isinstance(scoring, dict):
        add(f"{at}.scoring", "Give the dynamic scoring as {function, initial, decay, minimum}.")
        return
    unknown = sorted(set(scoring) - {"function", "initial", "decay", "minimum"}, key=str)
    if unknown:
        add(f"{at}.scoring", f"Unknown key(s): {', '.join(map(str, unknown))}.")
    if scoring.get("function", "logarithmic") not in DECAY_FUNCTIONS:
        add(f"{at}.scoring.function", f"Choose one of: {', '.join(DECAY_FUNCTIONS)}.")
    values = {}
    for name in ("initial", "decay", "minimum"):
        value = scoring.get(name)
        if not _is_int(value) or not 0 <= value <= MAX_POINTS:
            add(f"{at}.scoring.{name}", f"Give a whole number from 0 to {MAX_POINTS}.")
        else:
            values[name] = value
    if len(values) == 3:
        if values["minimum"] > values["initial"]:
            add(f"{at}.scoring.minimum", "The minimum cannot be above the initial value.")
        if q.get("points") != values["initial"]:
            add(f"{at}.points", "With dynamic scoring the points are the initial value.")


def _validate_flag(q: dict, at: str, add) -> None:
    dynamic = q.get("dynamic", False)
    if not isinstance(dynamic, bool):
        add(f"{at}.dynamic", "Use true or false.")
        dynamic = False
    if "flags" in q and not dynamic:
        _validate_flag_list(q["flags"], at, add)
        return
    match = q.get("match", "exact")
    if match not in FLAG_MATCHES:
        add(f"{at}.match", f"Choose one of: {', '.join(FLAG_MATCHES)}.")
        return
    if dynamic:
        if match == "regex":
            add(f"{at}.match", "A dynamic flag is generated per session; use exact or case_insensitive.")
        machine = q.get("flag_machine")
        if not isinstance(machine, str) or not machine.strip():
            add(f"{at}.flag_machine", "Name the machine the dynamic flag is written to.")
        path = q.get("flag_path")
        if not isinstance(path, str) or not path.startswith("/") or ".." in path.split("/"):
            add(f"{at}.flag_path", "Give an absolute path without '..' where the dynamic flag is written.")
        return
    answer = q.get("answer")
    if match == "regex":
        problem = regex_problem(answer)
        if problem:
            add(f"{at}.answer", problem)
    elif not isinstance(answer, str) or not answer.strip():
        add(f"{at}.answer", "Give the flag solvers must submit.")
    elif len(answer) > MAX_FLAG_LENGTH:
        add(f"{at}.answer", f"A flag may be at most {MAX_FLAG_LENGTH} characters long.")


def _validate_choice(q: dict, at: str, add, *, single: bool) -> None:
    options = q.get("options")
    if not isinstance(options, list) or len(options) < 2:
        add(f"{at}.options", "Give at least two options.")
        return
    if len(options) > MAX_OPTIONS:
        add(f"{at}.options", f"Give at most {MAX_OPTIONS} options.")
    for j, option in enumerate(options):
        if not isinstance(option, str) or not option.strip():
            add(f"{at}.options[{j}]", "An option must be non-empty text.")
    correct = q.get("correct")
    if not isinstance(correct, list) or not all(_is_int(i) for i in correct):
        add(f"{at}.correct", "List the indexes (from 0) of the correct options.")
        return
    if any(i < 0 or i >= len(options) for i in correct):
        add(f"{at}.correct", f"Each index must be between 0 and {len(options) - 1}.")
    elif len(set(correct)) != len(correct):
        add(f"{at}.correct", "An index is listed twice.")
    elif single and len(correct) != 1:
        add(f"{at}.correct", "A single-choice question has exactly one correct option.")
    elif not correct:
        add(f"{at}.correct", "Mark at least one option as correct.")


def _validate_numeric(q: dict, at: str, add) -> None:
    if not _is_number(q.get("answer")):
        add(f"{at}.answer", "Give the expected number.")
    tolerance = q.get("tolerance", 0)
    if not _is_number(tolerance) or tolerance < 0:
        add(f"{at}.tolerance", "The tolerance must be a number of 0 or more.")


def validate_questions(
    questions: Any, hints: Any, *, scenario_type: str, validation_mode: str = "instant"
) -> dict[str, list[str]]:
    """Return field errors of a version's questions and hints, keyed like ``questions[0].answer``; empty when valid.

    Pass ``validation_mode`` (the version's): free-text questions need "manual" review.
    """
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if questions is None:
        questions = []
    if hints is None:
        hints = []
    if not isinstance(questions, list):
        add("questions", "Questions must be a list.")
        questions = []
    if not isinstance(hints, list):
        add("hints", "Hints must be a list.")
        hints = []
    if scenario_type != "open_lab" and not questions:
        add("questions", "A scored scenario needs at least one question.")

    seen_ids: set[str] = set()
    for i, q in enumerate(questions):
        at = f"questions[{i}]"
        if not isinstance(q, dict):
            add(at, "Each question must be an object.")
            continue
        qid = q.get("id")
        if not isinstance(qid, str) or not ID_RE.match(qid):
            add(f"{at}.id", "Use 1 to 64 letters, digits, '-' or '_' as the question id.")
        elif qid in seen_ids:
            add(f"{at}.id", f"The id {qid!r} is used by another question.")
        else:
            seen_ids.add(qid)
        prompt = q.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            add(f"{at}.prompt", "Write the question.")
        points = q.get("points", 0)
        if not _is_int(points) or not 0 <= points <= MAX_POINTS:
            add(f"{at}.points", f"Points must be a whole number from 0 to {MAX_POINTS}.")
        max_attempts = q.get("max_attempts")
        if max_attempts is not None and (not _is_int(max_attempts) or max_attempts < 1):
            add(f"{at}.max_attempts", "Allow at least one attempt, or leave empty for unlimited attempts.")
        _validate_scoring(q, at, add)
        qtype = q.get("type")
        if qtype == "flag":
            _validate_flag(q, at, add)
        elif qtype in ("single_choice", "multiple_choice"):
            _validate_choice(q, at, add, single=qtype == "single_choice")
        elif qtype == "numeric":
            _validate_numeric(q, at, add)
        elif qtype == "free_text":
            if validation_mode != "manual":
                add(f"{at}.type", "Free-text answers need a person to grade them; set the validation mode to manual.")
        else:
            add(f"{at}.type", f"Choose one of: {', '.join(QUESTION_TYPES)}.")

    seen_hints: set[str] = set()
    requires_of: dict[str, Any] = {}
    for i, h in enumerate(hints):
        at = f"hints[{i}]"
        if not isinstance(h, dict):
            add(at, "Each hint must be an object.")
            continue
        hid = h.get("id")
        if not isinstance(hid, str) or not ID_RE.match(hid):
            add(f"{at}.id", "Use 1 to 64 letters, digits, '-' or '_' as the hint id.")
        elif hid in seen_hints:
            add(f"{at}.id", f"The id {hid!r} is used by another hint.")
        else:
            seen_hints.add(hid)
        question_id = h.get("question_id")
        if not isinstance(question_id, str) or question_id not in seen_ids:
            add(f"{at}.question_id", "Name the id of one of this version's questions.")
        text = h.get("text")
        if not isinstance(text, str) or not text.strip():
            add(f"{at}.text", "Write the hint.")
        cost = h.get("cost", 0)
        if not _is_int(cost) or not 0 <= cost <= MAX_POINTS:
            add(f"{at}.cost", f"The cost must be a whole number from 0 to {MAX_POINTS}.")
        title = h.get("title", "")
        if not isinstance(title, str) or len(title) > 200:
            add(f"{at}.title", "The title is text of at most 200 characters.")
        if "requires" in h:
            requires_of[f"{at}.requires"] = (hid, h["requires"])
    # Requirements may name hints listed later, so they are checked once every id is known.
    for key, (hid, requires) in requires_of.items():
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            add(key, "List the ids of the hints to take first.")
        elif hid in requires:
            add(key, "A hint cannot require itself.")
        elif set(requires) - seen_hints:
            add(key, f"No hint has the id {sorted(set(requires) - seen_hints)[0]!r}.")
    return errors


# --- Answer state -------------------------------------------------------------------------------


def new_answer_state(question: dict) -> dict[str, Any]:
    """Return the state of a question nobody has answered yet."""
    return {
        "correct": False,
        "attempts_made": 0,
        "remaining_attempts": question.get("max_attempts"),
        "earned_points": 0,
        "submitted_answer": None,
        "hints_taken": [],
        "pending_review": False,
    }


def _copy_state(question: dict, state: dict | None) -> dict[str, Any]:
    new = new_answer_state(question)
    if state:
        new.update(state)
    new["hints_taken"] = list(new.get("hints_taken") or [])
    return new


def hint_penalty(*, question: dict, state: dict, hints: list[dict], hint_mode: str) -> int:
    """Return the points the hints taken for ``question`` cost under ``hint_mode``."""
    if hint_mode != "penalty":
        return 0
    taken = set(state.get("hints_taken") or [])
    return sum(
        int(h.get("cost") or 0) for h in hints if h.get("id") in taken and h.get("question_id") == question.get("id")
    )


def value_after_hints(*, question: dict, state: dict, hints: list[dict], hint_mode: str) -> int:
    """Return what ``question`` is still worth once the hints taken for it are paid for."""
    return _award(int(question.get("points") or 0), question=question, state=state, hints=hints, hint_mode=hint_mode)


def _award(raw: int, *, question: dict, state: dict, hints: list[dict], hint_mode: str) -> int:
    return max(0, raw - hint_penalty(question=question, state=state, hints=hints, hint_mode=hint_mode))


# --- Answer parsing (malformed answers use no attempt) ------------------------------------------


def _parse_text(answer: Any, *, limit: int, what: str) -> str:
    if not isinstance(answer, str):
        raise ValidationFailed(f"Submit the {what} as text.", fields={"answer": [f"Submit the {what} as text."]})
    text = answer.strip()
    if not text:
        raise ValidationFailed(f"The {what} is empty.", fields={"answer": [f"The {what} is empty."]})
    if len(text) > limit:
        message = f"The {what} is too long (at most {limit} characters)."
        raise ValidationFailed(message, fields={"answer": [message]})
    return text


def _parse_index(value: Any, count: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not _is_int(value) or not 0 <= value < count:
        message = f"Choose an option number from 0 to {count - 1}."
        raise ValidationFailed(message, fields={"answer": [message]})
    return value


def _parse_choices(question: dict, answer: Any) -> list[int]:
    count = len(question.get("options") or [])
    if question["type"] == "single_choice":
        if isinstance(answer, list):
            if len(answer) != 1:
                message = "Choose exactly one option."
                raise ValidationFailed(message, fields={"answer": [message]})
            answer = answer[0]
        return [_parse_index(answer, count)]
    if not isinstance(answer, list | tuple) or not answer:
        message = "Choose at least one option."
        raise ValidationFailed(message, fields={"answer": [message]})
    picks = [_parse_index(v, count) for v in answer]
    if len(set(picks)) != len(picks):
        message = "An option is chosen twice."
        raise ValidationFailed(message, fields={"answer": [message]})
    return sorted(picks)


def _parse_number(answer: Any) -> float:
    value = answer
    if isinstance(answer, str) and len(answer) <= 64:
        try:
            value = float(answer.strip().replace(",", "."))
        except ValueError:
            value = None
    if not _is_number(value):
        message = "Submit a number."
        raise ValidationFailed(message, fields={"answer": [message]})
    return float(value)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def legacy_flag(*, answer: Any, match: str) -> dict[str, Any]:
    """Return the typed flag that grades like the older ``answer``/``match`` pair did.

    The older regex check was a full match; CTFd's is "match from the start and the match is the
    whole text", which differs for patterns such as ``a|ab``, so the pattern is anchored at the end.
    """
    if match == "regex":
        return {"type": "regex", "content": f"(?:{answer})\\Z", "case_insensitive": False}
    return {"type": "static", "content": str(answer or "").strip(), "case_insensitive": match == "case_insensitive"}


def question_flags(question: dict) -> list[dict[str, Any]]:
    """Return the typed flags of a static flag question, reading the older single-pattern shape too."""
    if isinstance(question.get("flags"), list):
        return question["flags"]
    return [legacy_flag(answer=question.get("answer", ""), match=question.get("match", "exact"))]


def static_flag_equal(saved: str, provided: str, *, case_insensitive: bool) -> bool:
    """Compare as CTFd's static flag does: equal lengths, then every character (lower-cased if asked)."""
    if len(saved) != len(provided):
        return False
    if case_insensitive:
        saved, provided = saved.lower(), provided.lower()
    # Lower-casing may change a length ("İ"); like CTFd, compare the characters both sides have.
    size = min(len(saved), len(provided))
    return _same(saved[:size], provided[:size])


def flag_matches(flag: dict, provided: str) -> bool:
    """Return whether ``provided`` (already stripped) matches one typed flag, as CTFd grades it."""
    content = str(flag.get("content", ""))
    insensitive = bool(flag.get("case_insensitive"))
    if flag.get("type", "static") == "regex":
        try:
            found = re.match(content, provided, re.IGNORECASE if insensitive else 0)
        except re.error:
            raise ValidationFailed("This question's flag pattern is broken; tell the scenario's creator.") from None
        return found is not None and found.group() == provided
    return static_flag_equal(content, provided, case_insensitive=insensitive)


def _flag_matches(question: dict, text: str, expected_flag: str | None) -> bool:
    match = question.get("match", "exact")
    if question.get("dynamic"):
        if not expected_flag:
            raise ValidationFailed("This question's flag is generated per session, and no session flag is available.")
        expected = expected_flag.strip()
        if match == "case_insensitive":
            return _same(text.casefold(), expected.casefold())
        return _same(text, expected)
    flags = question_flags(question)
    if any(f.get("type") == "regex" for f in flags) and len(text) > MAX_REGEX_ANSWER_LENGTH:
        message = f"The flag is too long (at most {MAX_REGEX_ANSWER_LENGTH} characters)."
        raise ValidationFailed(message, fields={"answer": [message]})
    # Every flag is tried, so the time taken does not tell which one matched.
    results = [flag_matches(flag, text) for flag in flags]
    return any(results)


# --- Grading ------------------------------------------------------------------------------------


def grade(
    *,
    question: dict,
    state: dict | None,
    answer: Any,
    scoring_mode: str,
    hint_mode: str,
    hints: list[dict],
    expected_flag: str | None = None,
) -> GradeResult:
    """Grade one submission of ``answer`` to ``question`` and return the new state and the feedback."""
    new = _copy_state(question, state)
    if new["correct"]:
        raise AlreadySolved("You have already solved this question.")
    if new["remaining_attempts"] is not None and new["remaining_attempts"] <= 0:
        raise OutOfAttempts("You have no attempts left for this question.")

    qtype = question.get("type")
    points = int(question.get("points") or 0)
    fraction = 0.0
    if qtype == "flag":
        submitted: Any = _parse_text(answer, limit=MAX_ANSWER_LENGTH, what="flag")
        fraction = 1.0 if _flag_matches(question, submitted, expected_flag) else 0.0
    elif qtype in ("single_choice", "multiple_choice"):
        submitted = _parse_choices(question, answer)
        correct_set = set(question.get("correct") or [])
        if set(submitted) == correct_set:
            fraction = 1.0
        elif scoring_mode == "partial" and qtype == "multiple_choice" and correct_set:
            right = len(correct_set.intersection(submitted))
            wrong = len(submitted) - right
            fraction = max(0.0, (right - wrong) / len(correct_set))
    elif qtype == "numeric":
        submitted = _parse_number(answer)
        expected = float(question.get("answer"))
        tolerance = float(question.get("tolerance") or 0)
        distance = abs(submitted - expected)
        if distance <= tolerance:
            fraction = 1.0
        elif scoring_mode == "partial" and tolerance > 0 and distance <= 2 * tolerance:
            fraction = 0.5
    elif qtype == "free_text":
        submitted = _parse_text(answer, limit=MAX_FREE_TEXT_LENGTH, what="answer")
        new["attempts_made"] += 1
        if new["remaining_attempts"] is not None:
            new["remaining_attempts"] -= 1
        new["submitted_answer"] = submitted
        new["pending_review"] = True
        return GradeResult(state=new, correct=False, message="Your answer was sent for review.", pending_review=True)
    else:
        raise ValidationFailed("This question has an unknown type; tell the scenario's creator.")

    new["attempts_made"] += 1
    if new["remaining_attempts"] is not None:
        new["remaining_attempts"] -= 1
    new["submitted_answer"] = submitted
    raw = math.floor(points * fraction)
    earned = _award(raw, question=question, state=new, hints=hints, hint_mode=hint_mode)
    before = int(new.get("earned_points") or 0)
    new["earned_points"] = max(before, earned)
    if fraction >= 1.0:
        new["correct"] = True
        return GradeResult(
            state=new,
            correct=True,
            message=f"Correct! You earned {new['earned_points']} points.",
            points_awarded=new["earned_points"] - before,
        )
    left = new["remaining_attempts"]
    tail = "" if left is None else f" {left} attempt{'s' if left != 1 else ''} left."
    if fraction > 0:
        return GradeResult(
            state=new,
            correct=False,
            message=f"Partly right: {earned} of {points} points.{tail}",
            points_awarded=new["earned_points"] - before,
        )
    return GradeResult(state=new, correct=False, message=f"Not correct.{tail}")


def review_free_text(
    *, question: dict, state: dict, accepted: bool, hint_mode: str, hints: list[dict]
) -> dict[str, Any]:
    """Return the state after a person accepted or refused a pending free-text answer."""
    if not state.get("pending_review"):
        raise Conflict("This answer is not waiting for review.")
    new = _copy_state(question, state)
    new["pending_review"] = False
    if accepted:
        new["correct"] = True
        new["earned_points"] = _award(
            int(question.get("points") or 0), question=question, state=new, hints=hints, hint_mode=hint_mode
        )
    return new


def take_hint(*, question: dict, state: dict | None, hint: dict, hint_mode: str) -> dict[str, Any]:
    """Return the state after taking ``hint``; taking the same hint again changes nothing."""
    if hint_mode == "disabled":
        raise HintsDisabled("Hints are disabled for this scenario.")
    if hint_mode not in HINT_MODES:
        raise ValidationFailed(f"Unknown hint mode {hint_mode!r}.")
    if hint.get("question_id") != question.get("id"):
        raise ValidationFailed("This hint belongs to another question.")
    new = _copy_state(question, state)
    missing = [r for r in hint.get("requires") or [] if r not in new["hints_taken"]]
    if missing and hint.get("id") not in new["hints_taken"]:
        raise Conflict(f"Take the hint {missing[0]!r} first.")
    if hint.get("id") not in new["hints_taken"]:
        new["hints_taken"].append(hint.get("id"))
    return new


def dynamic_value(*, function: str, initial: int, decay: int, minimum: int, solves_before: int) -> int:
    """Return a dynamic question's value after ``solves_before`` earlier solves, as CTFd computes it.

    The first solver gets ``initial``. "logarithmic" (CTFd's default, a parabola) reaches
    ``minimum`` after ``decay`` solves; "linear" takes ``decay`` points off per solve. Both round up
    and never go below ``minimum``; a decay of 0 counts as 1 in the parabola, as in CTFd.
    """
    solves = max(0, int(solves_before))
    if function == "linear":
        value = initial - decay * solves
    else:
        value = ((minimum - initial) / (max(decay, 1) ** 2)) * (solves**2) + initial
    return max(minimum, math.ceil(value))


def question_value(question: dict, *, solves_before: int) -> int:
    """Return what solving ``question`` is worth after ``solves_before`` solves (its points unless dynamic)."""
    scoring = question.get("scoring")
    if not isinstance(scoring, dict):
        return int(question.get("points") or 0)
    return dynamic_value(
        function=scoring.get("function", "logarithmic"),
        initial=int(scoring.get("initial") or 0),
        decay=int(scoring.get("decay") or 0),
        minimum=int(scoring.get("minimum") or 0),
        solves_before=solves_before,
    )


def dynamic_flag(*, secret: bytes | str, session_id: Any, question_id: str) -> str:
    """Return the per-session flag of a dynamic question: RX{ + 32 hex chars of HMAC-SHA256 }."""
    key = secret.encode("utf-8") if isinstance(secret, str) else secret
    message = f"{session_id}:{question_id}".encode()
    return "RX{" + hmac.new(key, message, hashlib.sha256).hexdigest()[:32] + "}"


def score_of(states: Any) -> int:
    """Return the total points of answer states (a dict keyed by question id, or an iterable of states)."""
    values = states.values() if isinstance(states, dict) else states
    return sum(int((s or {}).get("earned_points") or 0) for s in values)
