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

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from apps.scenarios import question_checks
from rangex.core.errors import Conflict, ValidationFailed

# The authoring checks live in question_checks; callers and tests find them here too.
DECAY_FUNCTIONS = question_checks.DECAY_FUNCTIONS
FLAG_MATCHES = question_checks.FLAG_MATCHES
FLAG_TYPES = question_checks.FLAG_TYPES
ID_RE = question_checks.ID_RE
MAX_FLAG_LENGTH = question_checks.MAX_FLAG_LENGTH
MAX_FLAGS = question_checks.MAX_FLAGS
MAX_OPTIONS = question_checks.MAX_OPTIONS
MAX_POINTS = question_checks.MAX_POINTS
MAX_REGEX_PATTERN_LENGTH = question_checks.MAX_REGEX_PATTERN_LENGTH
NESTED_QUANTIFIER_RE = question_checks.NESTED_QUANTIFIER_RE
QUESTION_TYPES = question_checks.QUESTION_TYPES
_is_int = question_checks._is_int
_is_number = question_checks._is_number
regex_problem = question_checks.regex_problem
validate_questions = question_checks.validate_questions

SCORING_MODES = ("allOrNothing", "partial")
HINT_MODES = ("disabled", "free", "penalty")

# Python's re has no timeout; a short subject bounds the work a badly written pattern can do.
MAX_REGEX_ANSWER_LENGTH = 200
MAX_ANSWER_LENGTH = 1_000
MAX_FREE_TEXT_LENGTH = 20_000


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
        raise ValidationFailed(
            _("Submit the %(what)s as text.") % {"what": what},
            fields={"answer": [_("Submit the %(what)s as text.") % {"what": what}]},
        )
    text = answer.strip()
    if not text:
        raise ValidationFailed(
            _("The %(what)s is empty.") % {"what": what},
            fields={"answer": [_("The %(what)s is empty.") % {"what": what}]},
        )
    if len(text) > limit:
        message = _("The %(what)s is too long (at most %(limit)s characters).") % {"what": what, "limit": limit}
        raise ValidationFailed(message, fields={"answer": [message]})
    return text


def _parse_index(value: Any, count: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not _is_int(value) or not 0 <= value < count:
        message = _("Choose an option number from 0 to %(value)s.") % {"value": count - 1}
        raise ValidationFailed(message, fields={"answer": [message]})
    return value


def _parse_choices(question: dict, answer: Any) -> list[int]:
    count = len(question.get("options") or [])
    if question["type"] == "single_choice":
        if isinstance(answer, list):
            if len(answer) != 1:
                message = _("Choose exactly one option.")
                raise ValidationFailed(message, fields={"answer": [message]})
            answer = answer[0]
        return [_parse_index(answer, count)]
    if not isinstance(answer, list | tuple) or not answer:
        message = _("Choose at least one option.")
        raise ValidationFailed(message, fields={"answer": [message]})
    picks = [_parse_index(v, count) for v in answer]
    if len(set(picks)) != len(picks):
        message = _("An option is chosen twice.")
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
        message = _("Submit a number.")
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
            raise ValidationFailed(_("This question's flag pattern is broken; tell the scenario's creator.")) from None
        return found is not None and found.group() == provided
    return static_flag_equal(content, provided, case_insensitive=insensitive)


def _flag_matches(question: dict, text: str, expected_flag: str | None) -> bool:
    match = question.get("match", "exact")
    if question.get("dynamic"):
        if not expected_flag:
            raise ValidationFailed(
                _("This question's flag is generated per session, and no session flag is available.")
            )
        expected = expected_flag.strip()
        if match == "case_insensitive":
            return _same(text.casefold(), expected.casefold())
        return _same(text, expected)
    flags = question_flags(question)
    if any(f.get("type") == "regex" for f in flags) and len(text) > MAX_REGEX_ANSWER_LENGTH:
        message = _("The flag is too long (at most %(MAX_REGEX_ANSWER_LENGTH)s characters).") % {
            "MAX_REGEX_ANSWER_LENGTH": MAX_REGEX_ANSWER_LENGTH
        }
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
        raise AlreadySolved(_("You have already solved this question."))
    if new["remaining_attempts"] is not None and new["remaining_attempts"] <= 0:
        raise OutOfAttempts(_("You have no attempts left for this question."))

    qtype = question.get("type")
    points = int(question.get("points") or 0)
    fraction = 0.0
    if qtype == "flag":
        submitted: Any = _parse_text(answer, limit=MAX_ANSWER_LENGTH, what=_("flag"))
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
        submitted = _parse_text(answer, limit=MAX_FREE_TEXT_LENGTH, what=_("answer"))
        new["attempts_made"] += 1
        if new["remaining_attempts"] is not None:
            new["remaining_attempts"] -= 1
        new["submitted_answer"] = submitted
        new["pending_review"] = True
        return GradeResult(state=new, correct=False, message=_("Your answer was sent for review."), pending_review=True)
    else:
        raise ValidationFailed(_("This question has an unknown type; tell the scenario's creator."))

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
            message=_("Correct! You earned %(earned_points)s points.") % {"earned_points": new["earned_points"]},
            points_awarded=new["earned_points"] - before,
        )
    left = new["remaining_attempts"]
    tail = (
        ""
        if left is None
        else " " + ngettext("%(count)s attempt left.", "%(count)s attempts left.", left) % {"count": left}
    )
    if fraction > 0:
        return GradeResult(
            state=new,
            correct=False,
            message=_("Partly right: %(earned)s of %(points)s points.%(tail)s")
            % {"earned": earned, "points": points, "tail": tail},
            points_awarded=new["earned_points"] - before,
        )
    return GradeResult(state=new, correct=False, message=_("Not correct.%(tail)s") % {"tail": tail})


def review_free_text(
    *, question: dict, state: dict, accepted: bool, hint_mode: str, hints: list[dict]
) -> dict[str, Any]:
    """Return the state after a person accepted or refused a pending free-text answer."""
    if not state.get("pending_review"):
        raise Conflict(_("This answer is not waiting for review."))
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
        raise HintsDisabled(_("Hints are disabled for this scenario."))
    if hint_mode not in HINT_MODES:
        raise ValidationFailed(_("Unknown hint mode %(hint_mode)s.") % {"hint_mode": repr(hint_mode)})
    if hint.get("question_id") != question.get("id"):
        raise ValidationFailed(_("This hint belongs to another question."))
    new = _copy_state(question, state)
    missing = [r for r in hint.get("requires") or [] if r not in new["hints_taken"]]
    if missing and hint.get("id") not in new["hints_taken"]:
        raise Conflict(_("Take the hint %(value)s first.") % {"value": repr(missing[0])})
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
