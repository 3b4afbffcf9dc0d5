"""Checks of a version's questions and hints as a creator writes them (``validate_questions``).

Split from ``grading`` (which re-exports these names): field errors keyed like ``questions[0].answer``.
"""

from __future__ import annotations

import math
import re
from typing import Any

from django.utils.translation import gettext as _

QUESTION_TYPES = ("flag", "single_choice", "multiple_choice", "numeric", "free_text")
FLAG_MATCHES = ("exact", "case_insensitive", "regex")
FLAG_TYPES = ("static", "regex")
DECAY_FUNCTIONS = ("logarithmic", "linear")
MAX_FLAGS = 50
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_POINTS = 100_000
MAX_FLAG_LENGTH = 500
MAX_REGEX_PATTERN_LENGTH = 300
MAX_OPTIONS = 26

# A group that contains a quantifier and is itself quantified, e.g. "(a+)+" or "(\w*)*".
NESTED_QUANTIFIER_RE = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,\d*\})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) and math.isfinite(value)


def regex_problem(pattern: Any) -> str | None:
    """Return why ``pattern`` cannot be a regex flag, or None when it is usable."""
    if not isinstance(pattern, str) or not pattern:
        return _("Give the regular expression the flag must match.")
    if len(pattern) > MAX_REGEX_PATTERN_LENGTH:
        return _("A regex flag may be at most %(MAX_REGEX_PATTERN_LENGTH)s characters long.") % {
            "MAX_REGEX_PATTERN_LENGTH": MAX_REGEX_PATTERN_LENGTH
        }
    try:
        re.compile(pattern)
    except re.error as exc:
        return _("This is not a valid regular expression: %(exc)s.") % {"exc": exc}
    if NESTED_QUANTIFIER_RE.search(pattern):
        return _("Nested quantifiers such as (a+)+ can make matching very slow; rewrite the pattern without them.")
    return None


def _validate_flag_list(flags: Any, at: str, add) -> None:
    if not isinstance(flags, list) or not flags:
        add(f"{at}.flags", _("Give at least one flag: a list of {type, content, case_insensitive}."))
        return
    if len(flags) > MAX_FLAGS:
        add(f"{at}.flags", _("Give at most %(MAX_FLAGS)s flags.") % {"MAX_FLAGS": MAX_FLAGS})
    for j, flag in enumerate(flags):
        where = f"{at}.flags[{j}]"
        if not isinstance(flag, dict):
            add(where, _("Each flag is an object with type, content and case_insensitive."))
            continue
        unknown = sorted(set(flag) - {"type", "content", "case_insensitive"}, key=str)
        if unknown:
            add(where, _("Unknown key(s): %(items)s.") % {"items": ", ".join(map(str, unknown))})
        ftype = flag.get("type", "static")
        if ftype not in FLAG_TYPES:
            add(f"{where}.type", _("Choose one of: %(items)s.") % {"items": ", ".join(FLAG_TYPES)})
            continue
        if not isinstance(flag.get("case_insensitive", False), bool):
            add(f"{where}.case_insensitive", _("Use true or false."))
        content = flag.get("content")
        if ftype == "regex":
            problem = regex_problem(content)
            if problem:
                add(f"{where}.content", problem)
        elif not isinstance(content, str) or not content.strip():
            add(f"{where}.content", _("Give the flag solvers must submit."))
        elif len(content) > MAX_FLAG_LENGTH:
            add(
                f"{where}.content",
                _("A flag may be at most %(MAX_FLAG_LENGTH)s characters long.") % {"MAX_FLAG_LENGTH": MAX_FLAG_LENGTH},
            )


def _validate_scoring(q: dict, at: str, add) -> None:
    scoring = q.get("scoring")
    if scoring is None:
        return
    if not isinstance(scoring, dict):
        add(f"{at}.scoring", _("Give the dynamic scoring as {function, initial, decay, minimum}."))
        return
    unknown = sorted(set(scoring) - {"function", "initial", "decay", "minimum"}, key=str)
    if unknown:
        add(f"{at}.scoring", _("Unknown key(s): %(items)s.") % {"items": ", ".join(map(str, unknown))})
    if scoring.get("function", "logarithmic") not in DECAY_FUNCTIONS:
        add(f"{at}.scoring.function", _("Choose one of: %(items)s.") % {"items": ", ".join(DECAY_FUNCTIONS)})
    values = {}
    for name in ("initial", "decay", "minimum"):
        value = scoring.get(name)
        if not _is_int(value) or not 0 <= value <= MAX_POINTS:
            add(f"{at}.scoring.{name}", _("Give a whole number from 0 to %(MAX_POINTS)s.") % {"MAX_POINTS": MAX_POINTS})
        else:
            values[name] = value
    if len(values) == 3:
        if values["minimum"] > values["initial"]:
            add(f"{at}.scoring.minimum", _("The minimum cannot be above the initial value."))
        if q.get("points") != values["initial"]:
            add(f"{at}.points", _("With dynamic scoring the points are the initial value."))


def _validate_flag(q: dict, at: str, add) -> None:
    dynamic = q.get("dynamic", False)
    if not isinstance(dynamic, bool):
        add(f"{at}.dynamic", _("Use true or false."))
        dynamic = False
    if "flags" in q and not dynamic:
        _validate_flag_list(q["flags"], at, add)
        return
    match = q.get("match", "exact")
    if match not in FLAG_MATCHES:
        add(f"{at}.match", _("Choose one of: %(items)s.") % {"items": ", ".join(FLAG_MATCHES)})
        return
    if dynamic:
        if match == "regex":
            add(f"{at}.match", _("A dynamic flag is generated per session; use exact or case_insensitive."))
        machine = q.get("flag_machine")
        if not isinstance(machine, str) or not machine.strip():
            add(f"{at}.flag_machine", _("Name the machine the dynamic flag is written to."))
        path = q.get("flag_path")
        if not isinstance(path, str) or not path.startswith("/") or ".." in path.split("/"):
            add(f"{at}.flag_path", _("Give an absolute path without '..' where the dynamic flag is written."))
        return
    answer = q.get("answer")
    if match == "regex":
        problem = regex_problem(answer)
        if problem:
            add(f"{at}.answer", problem)
    elif not isinstance(answer, str) or not answer.strip():
        add(f"{at}.answer", _("Give the flag solvers must submit."))
    elif len(answer) > MAX_FLAG_LENGTH:
        add(
            f"{at}.answer",
            _("A flag may be at most %(MAX_FLAG_LENGTH)s characters long.") % {"MAX_FLAG_LENGTH": MAX_FLAG_LENGTH},
        )


def _validate_choice(q: dict, at: str, add, *, single: bool) -> None:
    options = q.get("options")
    if not isinstance(options, list) or len(options) < 2:
        add(f"{at}.options", _("Give at least two options."))
        return
    if len(options) > MAX_OPTIONS:
        add(f"{at}.options", _("Give at most %(MAX_OPTIONS)s options.") % {"MAX_OPTIONS": MAX_OPTIONS})
    for j, option in enumerate(options):
        if not isinstance(option, str) or not option.strip():
            add(f"{at}.options[{j}]", _("An option must be non-empty text."))
    correct = q.get("correct")
    if not isinstance(correct, list) or not all(_is_int(i) for i in correct):
        add(f"{at}.correct", _("List the indexes (from 0) of the correct options."))
        return
    if any(i < 0 or i >= len(options) for i in correct):
        add(f"{at}.correct", _("Each index must be between 0 and %(value)s.") % {"value": len(options) - 1})
    elif len(set(correct)) != len(correct):
        add(f"{at}.correct", _("An index is listed twice."))
    elif single and len(correct) != 1:
        add(f"{at}.correct", _("A single-choice question has exactly one correct option."))
    elif not correct:
        add(f"{at}.correct", _("Mark at least one option as correct."))


def _validate_numeric(q: dict, at: str, add) -> None:
    if not _is_number(q.get("answer")):
        add(f"{at}.answer", _("Give the expected number."))
    tolerance = q.get("tolerance", 0)
    if not _is_number(tolerance) or tolerance < 0:
        add(f"{at}.tolerance", _("The tolerance must be a number of 0 or more."))


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
        add("questions", _("Questions must be a list."))
        questions = []
    if not isinstance(hints, list):
        add("hints", _("Hints must be a list."))
        hints = []
    if scenario_type != "open_lab" and not questions:
        add("questions", _("A scored scenario needs at least one question."))

    seen_ids: set[str] = set()
    for i, q in enumerate(questions):
        at = f"questions[{i}]"
        if not isinstance(q, dict):
            add(at, _("Each question must be an object."))
            continue
        qid = q.get("id")
        if not isinstance(qid, str) or not ID_RE.match(qid):
            add(f"{at}.id", _("Use 1 to 64 letters, digits, '-' or '_' as the question id."))
        elif qid in seen_ids:
            add(f"{at}.id", _("The id %(qid)s is used by another question.") % {"qid": repr(qid)})
        else:
            seen_ids.add(qid)
        prompt = q.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            add(f"{at}.prompt", _("Write the question."))
        points = q.get("points", 0)
        if not _is_int(points) or not 0 <= points <= MAX_POINTS:
            add(
                f"{at}.points",
                _("Points must be a whole number from 0 to %(MAX_POINTS)s.") % {"MAX_POINTS": MAX_POINTS},
            )
        max_attempts = q.get("max_attempts")
        if max_attempts is not None and (not _is_int(max_attempts) or max_attempts < 1):
            add(f"{at}.max_attempts", _("Allow at least one attempt, or leave empty for unlimited attempts."))
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
                add(
                    f"{at}.type", _("Free-text answers need a person to grade them; set the validation mode to manual.")
                )
        else:
            add(f"{at}.type", _("Choose one of: %(items)s.") % {"items": ", ".join(QUESTION_TYPES)})

    seen_hints: set[str] = set()
    requires_of: dict[str, Any] = {}
    for i, h in enumerate(hints):
        at = f"hints[{i}]"
        if not isinstance(h, dict):
            add(at, _("Each hint must be an object."))
            continue
        hid = h.get("id")
        if not isinstance(hid, str) or not ID_RE.match(hid):
            add(f"{at}.id", _("Use 1 to 64 letters, digits, '-' or '_' as the hint id."))
        elif hid in seen_hints:
            add(f"{at}.id", _("The id %(hid)s is used by another hint.") % {"hid": repr(hid)})
        else:
            seen_hints.add(hid)
        question_id = h.get("question_id")
        if not isinstance(question_id, str) or question_id not in seen_ids:
            add(f"{at}.question_id", _("Name the id of one of this version's questions."))
        text = h.get("text")
        if not isinstance(text, str) or not text.strip():
            add(f"{at}.text", _("Write the hint."))
        cost = h.get("cost", 0)
        if not _is_int(cost) or not 0 <= cost <= MAX_POINTS:
            add(
                f"{at}.cost",
                _("The cost must be a whole number from 0 to %(MAX_POINTS)s.") % {"MAX_POINTS": MAX_POINTS},
            )
        title = h.get("title", "")
        if not isinstance(title, str) or len(title) > 200:
            add(f"{at}.title", _("The title is text of at most 200 characters."))
        if "requires" in h:
            requires_of[f"{at}.requires"] = (hid, h["requires"])
    # Requirements may name hints listed later, so they are checked once every id is known.
    for key, (hid, requires) in requires_of.items():
        if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
            add(key, _("List the ids of the hints to take first."))
        elif hid in requires:
            add(key, _("A hint cannot require itself."))
        elif set(requires) - seen_hints:
            add(key, _("No hint has the id %(value)s.") % {"value": repr(sorted(set(requires) - seen_hints)[0])})
    return errors
