"""Reads of an event's challenge list: per question its current value, solve count, first solver, the
participant's solve and hints (frozen for everyone but admins during a freeze)."""

from __future__ import annotations

from typing import Any

from django.db import models

from apps.environments.models import EnvironmentSession
from apps.events import scoring
from apps.events.models import Event, EventSession, EventSolve, ScoringMode
from apps.events.prerequisites import event_prerequisites_missing
from apps.events.selectors import board_cached, event_challenges, event_sessions_of
from apps.scenarios import grading
from rangex.core.markdown import render_markdown


def event_lab_of(*, event_session: EventSession | None, user) -> EnvironmentSession | None:
    """Return the lab a player uses for a challenge: the team's shared lab, or their own latest one."""
    if event_session is None:
        return None
    from apps.events.models import EnvironmentMode

    if event_session.mode == EnvironmentMode.SHARED:
        return event_session.environment_session
    return (
        EnvironmentSession.objects.filter(
            user=user, scenario_version_id=event_session.scenario_version_id, event_id=event_session.event_id
        )
        .order_by("-created_at")
        .first()
    )


def challenge_stats(*, event: Event, admin: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """Return, per (version id, question id), its solve count, its first solver and its current value.

    Disqualified participants do not count; during a freeze everyone but admins sees the counts,
    first solvers and values as they stood at the freeze. Counted by the database, a row per question.
    """
    frozen = event.is_frozen() and not admin

    def build():
        solves = EventSolve.objects.filter(event=event)
        if frozen:
            solves = solves.filter(created_at__lt=event.freeze_at)
        on_board = models.Q(participation__disqualified=False)
        counts = solves.values("scenario_version_id", "question_id").annotate(
            all=models.Count("id"), on=models.Count("id", filter=on_board)
        )
        stats = {
            (str(row["scenario_version_id"]), row["question_id"]): {
                "all": row["all"],
                "solves": row["on"],
                "first": None,
            }
            for row in counts
        }
        # First blood is flagged on the first solve; when its holder was disqualified, the first
        # solve of a participant still on the board takes its place.
        first = solves.filter(on_board).select_related("participation__team", "participation__user")
        for solve in first.filter(first_blood=True):
            stats[(str(solve.scenario_version_id), solve.question_id)]["first"] = solve.participation.display_name
        for key, entry in stats.items():
            if entry["first"] is None and entry["solves"]:
                solve = first.filter(scenario_version_id=key[0], question_id=key[1]).order_by("created_at", "id")[0]
                entry["first"] = solve.participation.display_name
        return stats

    return board_cached(event, f"challenge-stats:{'frozen' if frozen else 'live'}", build, frozen=frozen)


def question_value(*, event: Event, question: dict, stats: dict[str, Any] | None) -> int:
    """Return what a question is worth now: its points, or in dynamic scoring its current value.

    A question with scoring of its own (an imported CTFd dynamic challenge) decays by its own rule.
    """
    if isinstance(question.get("scoring"), dict):
        return grading.question_value(question, solves_before=(stats or {}).get("all", 0))
    if event.scoring_mode != ScoringMode.DYNAMIC:
        return int(question.get("points") or 0)
    return scoring.dynamic_value(
        initial=event.dynamic_initial,
        minimum=event.dynamic_minimum,
        decay=event.dynamic_decay,
        solves_before=(stats or {}).get("all", 0),
    )


def _hint_rows(version, state: dict) -> dict[str, list[dict]]:
    """Return each question's hints with their cost, and the text of those the participant took."""
    taken = set(state.get("hints_taken") or [])
    rows: dict[str, list[dict]] = {}
    for hint in version.hints or []:
        rows.setdefault(hint.get("question_id"), []).append(
            {
                "id": hint.get("id"),
                "cost": hint.get("cost", 0),
                "taken": hint.get("id") in taken,
                "text": hint.get("text") if hint.get("id") in taken else None,
            }
        )
    return rows


def challenge_board(*, event: Event, user, participation, admin: bool) -> list[dict[str, Any]]:
    """Return the challenge list a viewer sees: released challenges (all for admins) with, per question,
    its current value, solve count, first solver, the participant's solve and hints."""
    sessions = event_sessions_of(participation=participation)
    stats = challenge_stats(event=event, admin=admin)
    rows = []
    for challenge in event_challenges(event=event, released_only=not admin):
        version = challenge.scenario_version
        session = sessions.get(version.pk)
        solved = (session.answers if session else {}) or {}
        if version.requires_machines:
            lab = event_lab_of(event_session=session, user=user)
            states = (lab.answers if lab else {}) or {}
        else:
            states = (session.attempt_states if session else {}) or {}
        questions = []
        for q in version.questions or []:
            q_stats = stats.get((str(version.pk), q.get("id"))) or {}
            questions.append(
                {
                    "q": q,
                    "prompt_html": render_markdown(q.get("prompt", "")),
                    "solved": solved.get(q.get("id")),
                    "value": question_value(event=event, question=q, stats=q_stats),
                    "solves": q_stats.get("solves", 0),
                    "first": q_stats.get("first"),
                    "hints": _hint_rows(version, states.get(q.get("id")) or {}).get(q.get("id"), []),
                }
            )
        rows.append(
            {
                "challenge": challenge,
                "version": version,
                "session": session,
                "questions": questions,
                "locked": event_prerequisites_missing(event=event, participation=participation, version=version),
            }
        )
    return rows
