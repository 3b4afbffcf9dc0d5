"""Helps for authors, on top of the grading engine: try an answer, human error messages, placeholders.

Pure domain code like ``apps.scenarios.grading``: no database, no requests.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.scenarios import grading
from rangex.core.errors import ApplicationError

FIELD_LABELS = {
    "id": gettext_noop("id"),
    "type": gettext_noop("type"),
    "prompt": gettext_noop("question text"),
    "points": gettext_noop("points"),
    "max_attempts": gettext_noop("attempts"),
    "flags": gettext_noop("flags"),
    "answer": gettext_noop("answer"),
    "match": gettext_noop("matching"),
    "options": gettext_noop("options"),
    "correct": gettext_noop("correct options"),
    "tolerance": gettext_noop("tolerance"),
    "scoring": gettext_noop("scoring"),
    "flag_machine": gettext_noop("flag machine"),
    "flag_path": gettext_noop("flag path"),
    "text": gettext_noop("text"),
    "cost": gettext_noop("cost"),
    "question_id": gettext_noop("question"),
    "requires": gettext_noop("hints needed first"),
}
KEY_RE = re.compile(r"^(questions|hints)\[(\d+)\](?:\.([A-Za-z_]+))?(?:\[(\d+)\])?(?:\.([A-Za-z_]+))?")


def answer_try(*, question: dict, hints: list[dict], answer: Any, scoring_mode: str, hint_mode: str) -> dict:
    """Grade ``answer`` against ``question`` as typed (not saved) with the real engine; return the verdict."""
    problems = grading.validate_questions([question], [], scenario_type="challenge", validation_mode="manual")
    if problems:
        first = next(iter(humanize_errors(problems, [question], []).values()))[0]
        return {
            "ok": False,
            "correct": False,
            "points": 0,
            "message": _("Fix the question first: %(first)s") % {"first": first},
        }
    if question.get("type") == "free_text":
        return {"ok": True, "correct": False, "points": 0, "message": _("Free-text answers are marked by a reviewer.")}
    if question.get("dynamic"):
        return {
            "ok": True,
            "correct": False,
            "points": 0,
            "message": _("A per-session flag is made when a lab starts."),
        }
    try:
        result = grading.grade(
            question={**question, "max_attempts": None},
            state=None,
            answer=answer,
            scoring_mode=scoring_mode,
            hint_mode=hint_mode,
            hints=[h for h in hints if h.get("question_id") == question.get("id")],
        )
    except ApplicationError as exc:
        return {"ok": False, "correct": False, "points": 0, "message": exc.message}
    return {
        "ok": True,
        "correct": result.correct,
        "points": result.points_awarded,
        "message": (
            _("Accepted: %(earned)s of %(points)s points.")
            if result.correct
            else _("Not accepted: %(earned)s of %(points)s points.")
        )
        % {"earned": result.points_awarded, "points": int(question.get("points") or 0)},
    }


def _label(qs: list, index: int, what: str) -> str:
    item = qs[index] if 0 <= index < len(qs) and isinstance(qs[index], dict) else {}
    ident = item.get("id")
    if isinstance(ident, str) and ident:
        return _("%(what)s %(position)s (%(id)s)") % {"what": what, "position": index + 1, "id": ident}
    return _("%(what)s %(position)s") % {"what": what, "position": index + 1}


def humanize_key(key: str, questions: list, hints: list) -> tuple[str, int | None, str]:
    """Return (section, position, label) for an error key such as ``questions[1].flags[0].content``."""
    match = KEY_RE.match(key)
    if not match:
        return key.split("[", 1)[0], None, ""
    section, index, field, sub, subfield = match.groups()
    index = int(index)
    items = questions if section == "questions" else hints
    label = _label(
        items if isinstance(items, list) else [], index, _("Question") if section == "questions" else _("Hint")
    )
    if field:
        label += ", " + (_(FIELD_LABELS[field]) if field in FIELD_LABELS else field.replace("_", " "))
        if sub is not None:
            label += f" {int(sub) + 1}"
        if subfield:
            label += " " + (_(FIELD_LABELS[subfield]) if subfield in FIELD_LABELS else subfield.replace("_", " "))
    return section, index, label


def humanize_errors(errors: dict[str, list[str]], questions: Any, hints: Any) -> dict[str, list[str]]:
    """Reword grading's keyed errors for people: "Question 2 (q2), correct options: ..." (counted from 1)."""
    qs = questions if isinstance(questions, list) else []
    hs = hints if isinstance(hints, list) else []
    out: dict[str, list[str]] = {}
    for key, texts in errors.items():
        label = humanize_key(key, qs, hs)[2]
        out[key] = [f"{label}: {text}" if label else text for text in texts]
    return out


def flag_placeholder(question: dict) -> str:
    """Return a hint of the expected answer's shape for the solver's input, from the question's own flags."""
    if question.get("type") == "numeric":
        return _("A number")
    if question.get("type") != "flag":
        return ""
    for flag in grading.question_flags(question):
        content = flag.get("content") if isinstance(flag, dict) else None
        if isinstance(content, str) and flag.get("type") == "static":
            match = re.match(r"^([A-Za-z0-9_-]{1,20})\{.*\}$", content)
            if match:
                return f"{match.group(1)}{{...}}"
    return _("Your answer")
