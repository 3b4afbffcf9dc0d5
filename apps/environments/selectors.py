"""Reads of environment sessions, with the owner-or-admin check built in."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from apps.environments import hooks
from apps.environments.models import EnvironmentMachine, EnvironmentSession, SessionStatus
from rangex.core.errors import NotFound

logger = logging.getLogger(__name__)


def _base() -> QuerySet[EnvironmentSession]:
    return EnvironmentSession.objects.select_related("scenario_version__scenario", "user").prefetch_related("machines")


def _machine_status(state) -> str:
    """Return what a machine row shows for a ``MachineState`` the runtime reports."""
    from apps.runtime import MachineState

    return {
        MachineState.RUNNING: EnvironmentMachine.Status.RUNNING,
        MachineState.PAUSED: EnvironmentMachine.Status.PAUSED,
        MachineState.STARTING: EnvironmentMachine.Status.PENDING,
        MachineState.EXITED: EnvironmentMachine.Status.EXITED,
    }.get(state, EnvironmentMachine.Status.MISSING)


def env_session_runtime_info(*, session: EnvironmentSession) -> dict:
    """Return the key a session recorded, whether it is configured here, and its backend's capabilities.

    Admin pages show a session whose key was removed from the settings as such; pages offer only
    what the backend can do (no Pause button on a backend that cannot pause).
    """
    from apps.runtime import Capabilities, RuntimeNotConfigured, get_runtime

    key = session.runtime_backend or ""
    try:
        runtime = get_runtime(key or None)
    except RuntimeNotConfigured as exc:
        return {"key": key, "configured": False, "capabilities": Capabilities(), "message": exc.message}
    return {"key": runtime.key, "configured": True, "capabilities": runtime.capabilities, "message": ""}


def env_session_machines_live(*, session: EnvironmentSession) -> list[EnvironmentMachine]:
    """Return the session's machine rows with ``status`` set to what the runtime reports now.

    Nothing is saved (a page that shows a session never writes); the periodic sweep records it.
    When the runtime cannot be asked, the rows keep their stored status.
    """
    from apps.runtime import RuntimeFailure, get_runtime

    rows = list(session.machines.all())
    if session.status not in (SessionStatus.RUNNING, SessionStatus.PAUSED):
        return rows
    try:
        states = get_runtime(session.runtime_backend or None).status(str(session.pk))
    except RuntimeFailure:
        logger.warning("status of session %s unavailable", session.pk, exc_info=True)
        return rows
    for row in rows:
        row.status = _machine_status(states.get(row.machine_name))
    return rows


def env_session_desktops(*, session: EnvironmentSession, user) -> list[str]:
    """Return the names of the session's machines with a desktop that ``user`` may open (or watch)."""
    from apps.environments.launch import machine_has_gui

    rows = session.machines.select_related("machine__image_variant", "machine__platform_image")
    admin = getattr(user, "is_platform_admin", False)
    return [
        row.machine_name
        for row in rows
        if row.machine is not None and machine_has_gui(row.machine) and (row.allow_solver_entry or admin)
    ]


def env_desktop_viewers(*, user, session: EnvironmentSession) -> tuple[bool, bool]:
    """Return (may control, may watch view-only) for ``user`` on ``session``'s desktops.

    The owner (and whoever ``hooks.session_access`` lets in, such as teammates) controls; an admin
    or someone ``hooks.session_watch`` allows (the event's organiser) who is not the owner watches.
    """
    if user is None or not user.is_authenticated:
        return False, False
    admin = bool(getattr(user, "is_platform_admin", False))
    control = session.user_id == user.pk or (not admin and env_session_can_access(user=user, session=session))
    watch = not control and (admin or hooks.session_watch.any(user=user, session=session))
    return control, watch


def env_session_get_for_watcher(*, user, pk) -> EnvironmentSession:
    """Return the session if ``user`` may watch its desktops view-only; anyone else gets a 404."""
    try:
        session = _base().get(pk=pk)
    except (EnvironmentSession.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound(_("No such session.")) from exc
    if not env_desktop_viewers(user=user, session=session)[1]:
        raise NotFound(_("No such session."))
    return session


def env_session_can_access(*, user, session: EnvironmentSession) -> bool:
    """Return True for the owner, an admin, or someone a registered hook lets in."""
    if user is None or not user.is_authenticated:
        return False
    if session.user_id == user.pk or getattr(user, "is_platform_admin", False):
        return True
    return hooks.session_access.any(user=user, session=session)


def env_session_addresses(*, session: EnvironmentSession) -> dict[str, list[tuple[str, str]]]:
    """Return each machine's addresses as ``(network group, address)`` pairs, while the session is live.

    An ended session's addresses belong to nothing any more, so none are returned.
    """
    if not session.is_live:
        return {}
    addresses: dict[str, list[tuple[str, str]]] = {}
    rows = session.topology.filter(private_ip__isnull=False).order_by("network_group")
    for name, group, ip in rows.values_list("machine_name", "network_group", "private_ip"):
        addresses.setdefault(name, []).append((group, ip))
    return addresses


def env_answer_reviewer_may(*, user, session: EnvironmentSession) -> bool:
    """Return whether ``user`` may review the answers of ``session``: its scenario's creator or an admin."""
    if user is None or not user.is_authenticated:
        return False
    return bool(user.is_platform_admin) or session.scenario_version.scenario.created_by_user_id == user.pk


def env_session_get_for_reviewer(*, user, pk) -> EnvironmentSession:
    """Return the session if ``user`` may review its answers; anyone else gets a 404."""
    try:
        session = _base().get(pk=pk)
    except (EnvironmentSession.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound(_("No such session.")) from exc
    if not env_answer_reviewer_may(user=user, session=session):
        raise NotFound(_("No such session."))
    return session


def env_answers_pending_review(*, user) -> list[dict]:
    """Return the free-text answers waiting for ``user``'s decision, oldest session first.

    Creators see their scenarios' answers, admins everyone's. The stored JSON text is searched for
    the waiting flag first (a portable filter on MariaDB and SQLite), then each state is checked.
    """
    if user is None or not user.is_authenticated or not (user.is_platform_admin or user.is_staff):
        return []
    sessions = (
        EnvironmentSession.objects.filter(answers__icontains='"pending_review": true', is_test=False)
        .select_related("scenario_version__scenario", "user")
        .order_by("created_at")
    )
    if not user.is_platform_admin:
        sessions = sessions.filter(scenario_version__scenario__created_by_user=user)
    pending = []
    for session in sessions[:500]:
        questions = {q.get("id"): q for q in session.scenario_version.questions or []}
        for question_id, state in (session.answers or {}).items():
            if state.get("pending_review") and question_id in questions:
                pending.append(
                    {
                        "session": session,
                        "question": questions[question_id],
                        "answer": state.get("submitted_answer") or "",
                    }
                )
    return pending


def env_session_get_for_user(*, user, pk) -> EnvironmentSession:
    """Return the session if ``user`` may use it; anyone else gets a 404."""
    try:
        session = _base().get(pk=pk)
    except (EnvironmentSession.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise NotFound(_("No such session.")) from exc
    if not env_session_can_access(user=user, session=session):
        raise NotFound(_("No such session."))
    return session


def env_session_list_for_user(*, user) -> QuerySet[EnvironmentSession]:
    return _base().filter(user=user, is_test=False).order_by("-created_at")


def scenario_played_by(*, user, scenario) -> bool:
    """Return whether ``user`` finished a session of ``scenario``: ended normally or answered to the end.

    A session that failed to start or is still live does not count; test sessions never do.
    """
    return (
        EnvironmentSession.objects.filter(user=user, scenario_version__scenario=scenario, is_test=False)
        .filter(Q(status=SessionStatus.TERMINATED) | Q(completed_at__isnull=False))
        .exists()
    )


def solved_scenario_slugs(*, user, slugs) -> set[str]:
    """Return which of the scenario ``slugs`` ``user`` solved in practice: every question of a session right."""
    solved: set[str] = set()
    sessions = (
        EnvironmentSession.objects.filter(
            user=user, scenario_version__scenario__slug__in=list(slugs), completed_at__isnull=False, is_test=False
        )
        .select_related("scenario_version__scenario")
        .only("answers", "scenario_version__questions", "scenario_version__scenario__slug")
    )
    for session in sessions:
        questions = session.scenario_version.questions or []
        answers = session.answers or {}
        if all((answers.get(q.get("id")) or {}).get("correct") for q in questions):
            solved.add(session.scenario_version.scenario.slug)
    return solved


def env_question_solve_stats(*, version, viewer) -> dict[str, dict]:
    """Return, per question id of ``version``, how many users solved it in practice and its first solver.

    Practice sessions only (an event's lab is scored by the event), over every version of the
    scenario (a question keeps its id from version to version). ``first`` is the first solver's
    public name, or None when their profile is private (unless the viewer is that user), or None with
    ``first_private`` when nobody may see them. Three queries, whatever the number of sessions.
    """
    from django.contrib.auth import get_user_model
    from django.db.models import Count, F, Subquery
    from django.db.models.fields.json import KeyTextTransform, KeyTransform

    question_ids = [q["id"] for q in version.questions or [] if q.get("id")]
    if not question_ids:
        return {}
    practice = EnvironmentSession.objects.filter(scenario_version__scenario_id=version.scenario_id, event_id=None)

    def solved(qid: str) -> Q:
        return Q(**{f"_solved{question_ids.index(qid)}": True})

    aliases = {
        f"_solved{i}": KeyTransform("correct", KeyTransform(qid, "answers")) for i, qid in enumerate(question_ids)
    }
    counts = practice.alias(**aliases).aggregate(
        **{f"n{i}": Count("user_id", distinct=True, filter=solved(qid)) for i, qid in enumerate(question_ids)}
    )
    # One scalar subquery per solved question, read off the version's own row: one query on every
    # database (SQLite allows no LIMIT inside a UNION).
    firsts = {
        f"f{i}": Subquery(
            practice.alias(**{f"_solved{i}": aliases[f"_solved{i}"]})
            .filter(solved(qid))
            .annotate(at=KeyTextTransform("solved_at", KeyTransform(qid, "answers")))
            .order_by(F("at").asc(nulls_last=True), "started_at", "created_at")
            .values("user_id")[:1]
        )
        for i, qid in enumerate(question_ids)
        if counts[f"n{i}"]
    }
    first_by_index: dict[int, object] = {}
    if firsts:
        row = type(version).objects.filter(pk=version.pk).values(**firsts).first() or {}
        to_pk = get_user_model()._meta.pk.to_python  # a subquery's value comes back unconverted
        first_by_index = {int(key[1:]): to_pk(user_id) for key, user_id in row.items() if user_id is not None}
    users = get_user_model().objects.in_bulk(set(first_by_index.values()))
    stats = {}
    for i, qid in enumerate(question_ids):
        user = users.get(first_by_index.get(i))
        visible = user is not None and (
            (user.profile_public and user.is_active) or getattr(viewer, "pk", None) == user.pk
        )
        stats[qid] = {
            "count": counts[f"n{i}"],
            "first": user.public_name if visible else None,
            "first_private": user is not None and not visible,
        }
    return stats


def env_session_machine_tools(*, session) -> dict[str, list[str]]:
    """Return machine name -> the catalogue tools built into its image, for the session page."""
    from apps.scenarios.image_builds import version_machine_tools

    return version_machine_tools(session.scenario_version)
