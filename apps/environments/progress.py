"""A learner's progress per scenario, kept across labs and versions (reads and the matching rule).

Matching questions across versions: a question carries over when its ``id`` is the same *and* its
fingerprint is: a SHA-256 over the canonical JSON of what the question asks and accepts (type,
prompt, options, correct choices, flags, numeric answer and tolerance, dynamic-flag source). Points,
attempt limits and dynamic scoring are left out: re-pricing a question does not change what a
learner solved. A reworded prompt or a changed answer gives a new fingerprint, so the learner
answers it again in that version; the old standing still counts for the versions that hold it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from apps.environments.models import LIVE_STATUSES, EnvironmentSession, LearnerQuestionProgress

# What a question may change without its learners losing their standing on it.
NOT_FINGERPRINTED = frozenset({"id", "points", "max_attempts", "scoring"})


def question_fingerprint(question: dict[str, Any]) -> str:
    """Return the fingerprint of what ``question`` asks and accepts (see the module docstring)."""
    content = {k: v for k, v in question.items() if k not in NOT_FINGERPRINTED}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def counts_for_progress(session: EnvironmentSession) -> bool:
    """Return whether ``session`` adds to its learner's own progress (not an event's, not a test deploy)."""
    return session.event_id is None and not session.is_test


def is_complete(version, answers: dict) -> bool:
    """Return whether every question of ``version`` is solved, waiting for review, or out of attempts."""
    for question in version.questions or []:
        state = answers.get(question["id"])
        if state is None:
            return False
        if not state.get("correct") and not state.get("pending_review") and state.get("remaining_attempts") != 0:
            return False
    return True


def learner_states(*, user, scenario_id, questions) -> dict[str, dict]:
    """Return ``{question_id: state}`` of ``user``'s earlier standing on the matching ``questions``."""
    wanted = {q["id"]: question_fingerprint(q) for q in questions or [] if q.get("id")}
    if not wanted:
        return {}
    rows = LearnerQuestionProgress.objects.filter(
        user=user, scenario_id=scenario_id, question_id__in=list(wanted)
    ).values_list("question_id", "fingerprint", "state")
    return {qid: dict(state) for qid, fp, state in rows if wanted.get(qid) == fp}


def _solved_keys(*, user, scenario_ids) -> dict[Any, set[tuple[str, str]]]:
    rows = LearnerQuestionProgress.objects.filter(
        user=user, scenario_id__in=list(scenario_ids), solved_at__isnull=False
    ).values_list("scenario_id", "question_id", "fingerprint")
    solved: dict[Any, set[tuple[str, str]]] = {}
    for scenario_id, qid, fp in rows:
        solved.setdefault(scenario_id, set()).add((qid, fp))
    return solved


def solved_share(*, solved: set[tuple[str, str]], questions) -> tuple[int, int]:
    """Return ``(solved, total)`` of ``questions`` given a learner's solved ``(id, fingerprint)`` keys."""
    questions = [q for q in questions or [] if q.get("id")]
    done = sum(1 for q in questions if (q["id"], question_fingerprint(q)) in solved)
    return done, len(questions)


def learner_scenario_percent(*, user, versions) -> dict[Any, int]:
    """Return ``{scenario_id: percent}`` of ``user``'s solved questions in each of ``versions``.

    ``versions`` are the versions to measure against (the published one a page shows); a scenario
    whose questions are all solved is at 100 even if no single lab held them all.
    """
    if user is None or not user.is_authenticated:
        return {}
    versions = list(versions)
    solved = _solved_keys(user=user, scenario_ids={v.scenario_id for v in versions})
    result: dict[Any, int] = {}
    for version in versions:
        done, total = solved_share(solved=solved.get(version.scenario_id, set()), questions=version.questions)
        if total:
            percent = 100 if done == total else done * 100 // total
            result[version.scenario_id] = max(result.get(version.scenario_id, 0), percent)
    return result


@dataclass(frozen=True)
class LearnerStats:
    points: int
    solved: int
    streak_days: int
    solved_today: bool


def _streak(days: set[date], today: date) -> int:
    """Return the run of consecutive days with a solve ending today (or yesterday: today may yet come)."""
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def learner_stats(*, user, today: date | None = None) -> LearnerStats:
    """Return ``user``'s points total (practice, not events), questions solved and solve streak in days."""
    today = today or timezone.localdate()
    rows = LearnerQuestionProgress.objects.filter(user=user, solved_at__isnull=False)
    total = rows.aggregate(points=Sum("points"))["points"] or 0
    # Two years of solve days is plenty for any streak a page shows, and bounds the read.
    since = timezone.now() - timedelta(days=730)
    days = {
        timezone.localtime(at).date() for at in rows.filter(solved_at__gte=since).values_list("solved_at", flat=True)
    }
    return LearnerStats(points=total, solved=rows.count(), streak_days=_streak(days, today), solved_today=today in days)


def learner_last_session(*, user) -> EnvironmentSession | None:
    """Return ``user``'s running lab, else the last one they played (practice only), to resume from."""
    sessions = EnvironmentSession.objects.filter(user=user, event_id__isnull=True, is_test=False).select_related(
        "scenario_version__scenario"
    )
    live = sessions.filter(status__in=LIVE_STATUSES).order_by("-last_activity_at", "-created_at").first()
    return live or sessions.order_by("-created_at").first()


def learner_progress_for_versions(*, user, versions) -> dict[Any, int]:
    """Return ``{scenario_id: percent}`` for ``versions``: 100 once completed in any lab, else the share solved."""
    if user is None or not user.is_authenticated:
        return {}
    versions = list(versions)
    result = learner_scenario_percent(user=user, versions=versions)
    completed = EnvironmentSession.objects.filter(
        user=user,
        is_test=False,
        completed_at__isnull=False,
        scenario_version__scenario_id__in=[v.scenario_id for v in versions],
    ).values_list("scenario_version__scenario_id", flat=True)
    for scenario_id in completed:
        result[scenario_id] = 100
    return result
