"""Solver pages of a lab session: start, the live session page, answers, hints and lifecycle buttons."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from apps.environments import hooks, selectors, services
from apps.environments.models import SessionStatus
from apps.scenarios import authoring, catalog, downloads, grading
from apps.scenarios import selectors as scenario_selectors
from apps.scenarios.models import ScenarioVersion, VersionStatus
from rangex.core.errors import ApplicationError, NotFound
from rangex.core.http import client_ip, user_agent
from rangex.core.markdown import render_markdown
from rangex.core.throttling import throttle_check


@login_required
@require_POST
def session_start(request: HttpRequest, version_id) -> HttpResponse:
    version = ScenarioVersion.objects.filter(pk=version_id, status=VersionStatus.PUBLISHED).first()
    if version is None:
        raise NotFound(_("No such published scenario."))
    try:
        throttle_check(request, "session_start")
        session = services.env_session_start(
            user=request.user, version=version, client_ip=client_ip(request), user_agent=user_agent(request)
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scenarios:detail", slug=version.scenario.slug)
    return redirect("environments:detail", pk=session.pk)


@login_required
@require_POST
def session_preview_start(request: HttpRequest, version_id) -> HttpResponse:
    """Start a preview (test) lab of any version, for its creator or a reviewer."""
    try:
        version = scenario_selectors.scenario_version_get_for_creator(user=request.user, pk=version_id)
        throttle_check(request, "session_start")
        session = services.env_session_start(
            user=request.user,
            version=version,
            client_ip=client_ip(request),
            user_agent=user_agent(request),
            is_test=True,
        )
    except NotFound:
        raise
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("scenarios:preview", version_id=version_id)
    return redirect("environments:detail", pk=session.pk)


@login_required
def session_list(request: HttpRequest) -> HttpResponse:
    sessions = selectors.env_session_list_for_user(user=request.user)[:100]
    return render(request, "environments/session_list.html", {"sessions": sessions})


def _question_rows(session) -> list[dict]:
    version = session.scenario_version
    answers = session.answers or {}
    hints_by_question: dict[str, list] = {}
    for hint in version.hints or []:
        hints_by_question.setdefault(hint.get("question_id"), []).append(hint)
    solves = selectors.env_question_solve_stats(version=version, viewer=session.user)
    rows = []
    for question in version.questions or []:
        state = answers.get(question["id"]) or {}
        taken = set(state.get("hints_taken") or [])
        rows.append(
            {
                "q": question,
                "prompt_html": render_markdown(question.get("prompt", "")),
                "placeholder": authoring.flag_placeholder(question),
                "solves": solves.get(question["id"]),
                "state": state,
                "value": grading.value_after_hints(
                    question=question, state=state, hints=version.hints or [], hint_mode=version.hint_mode
                ),
                "hints": [
                    {
                        "id": h["id"],
                        "cost": h.get("cost", 0),
                        "taken": h["id"] in taken,
                        "text": h.get("text") if h["id"] in taken else None,
                    }
                    for h in hints_by_question.get(question["id"], [])
                ],
            }
        )
    return rows


TERMINAL_STATUSES = (SessionStatus.STARTING, SessionStatus.RUNNING, SessionStatus.PAUSED)


def _restart_version(session):
    """Return the published version an ended session can start again (the scenario's newest), or None."""
    if session.is_live or session.event_id is not None:
        return None
    try:
        return catalog.catalog_get(user=session.user, slug=session.scenario_version.scenario.slug)
    except NotFound:
        return None


def _context(session, machines=None, *, questions: bool = False) -> dict:
    """Return what the session templates show; the question rows (and their solve counts) only when asked."""
    version = session.scenario_version
    capabilities = selectors.env_session_runtime_info(session=session)["capabilities"]
    addresses = selectors.env_session_addresses(session=session)
    tools = selectors.env_session_machine_tools(session=session)
    machines = machines if machines is not None else list(session.machines.all())
    context = {
        "capabilities": capabilities,
        "machines": [
            {"row": m, "addresses": addresses.get(m.machine_name, []), "tools": tools.get(m.machine_name, [])}
            for m in machines
        ],
        "restart_version": _restart_version(session),
        "session": session,
        "version": version,
        "mission_html": render_markdown(version.mission_text),
        # Never rendered while the session is live: the property is empty until it has ended.
        "writeup_html": render_markdown(session.solver_writeup) if session.solver_writeup else "",
        "questions": _question_rows(session) if questions else [],
        "max_score": sum(int(q.get("points", 0)) for q in version.questions or []),
        # A stopping or ended lab has no shell to open: its page shows no terminal at all.
        "terminals": [m for m in machines if m.allow_solver_entry]
        if session.status in TERMINAL_STATUSES and capabilities.terminal != "none"
        else [],
        "hint_mode": version.hint_mode,
    }
    context["terminal_machines"] = [m.machine_name for m in context["terminals"]]
    return context


def _desktop_context(request, session, capabilities) -> dict:
    if session.status not in TERMINAL_STATUSES or not capabilities.port_streams:
        return {"desktops": []}
    from apps.environments.services.desktops import desktop_watchers

    return {
        "desktops": selectors.env_session_desktops(session=session, user=request.user),
        "desktop_watchers": desktop_watchers(session_id=session.pk),
    }


@login_required
def session_detail(request: HttpRequest, pk) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    machines = selectors.env_session_machines_live(session=session)
    context = _context(session, machines, questions=True)
    context["topology"] = catalog.catalog_topology(session.scenario_version)
    context["next_steps"] = [step for result in hooks.session_next_steps.send(session=session) for step in result]
    context["downloads"] = downloads.solver_downloads(version=session.scenario_version)
    context.update(_desktop_context(request, session, context["capabilities"]))
    return render(request, "environments/session_detail.html", context)


@login_required
def desktop_watch(request: HttpRequest, pk, machine: str) -> HttpResponse:
    """An admin's or the event organiser's view-only window on one desktop of a running session."""
    session = selectors.env_session_get_for_watcher(user=request.user, pk=pk)
    if machine not in selectors.env_session_desktops(session=session, user=request.user):
        raise NotFound(_("No such desktop."))
    capabilities = selectors.env_session_runtime_info(session=session)["capabilities"]
    context = {"session": session, "version": session.scenario_version, "machine": machine}
    context.update(_desktop_context(request, session, capabilities))
    context["desktops"] = [machine] if machine in context["desktops"] else []
    return render(request, "environments/desktop_watch.html", context)


@login_required
def session_status(request: HttpRequest, pk) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    machines = selectors.env_session_machines_live(session=session)
    return render(request, "environments/_status.html", _context(session, machines))


@login_required
@require_POST
def session_answer(request: HttpRequest, pk) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    question_id = request.POST.get("question_id", "")
    answer = request.POST.getlist("answer") if request.POST.get("multi") else request.POST.get("answer", "")
    feedback, ok = "", False
    try:
        throttle_check(request, "answer")
        result = services.env_session_submit_answer(
            session=session, actor=request.user, question_id=question_id, answer=answer
        )
        feedback, ok = result["message"], bool(result["state"].get("correct"))
    except ApplicationError as exc:
        feedback = exc.message
    session.refresh_from_db()
    row = next((r for r in _question_rows(session) if r["q"]["id"] == question_id), None)
    if row is None:
        raise NotFound(_("No such question."))
    # The answer's own response carries the new score too (out of band), so the page is right even
    # when its live socket is reconnecting.
    context = {**_context(session), "row": row, "feedback": feedback, "ok": ok, "oob_score": True}
    if request.htmx:
        return render(request, "environments/_question.html", context)
    messages.success(request, feedback) if ok else messages.error(request, feedback)
    return redirect("environments:detail", pk=session.pk)


@login_required
@require_POST
def session_hint(request: HttpRequest, pk) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    try:
        throttle_check(request, "hint")
        services.env_session_take_hint(session=session, actor=request.user, hint_id=request.POST.get("hint_id", ""))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    session.refresh_from_db()
    hint_id = request.POST.get("hint_id", "")
    row = next((r for r in _question_rows(session) if any(h["id"] == hint_id for h in r["hints"])), None)
    if request.htmx and row is not None:
        return render(request, "environments/_question.html", {**_context(session), "row": row, "oob_score": True})
    return redirect("environments:detail", pk=session.pk)


ACTIONS = {
    "pause": services.env_session_pause,
    "resume": services.env_session_resume,
    "extend": services.env_session_extend,
    "stop": services.env_session_stop,
}


@login_required
@require_POST
def session_action(request: HttpRequest, pk, action: str) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    service = ACTIONS.get(action)
    if service is None:
        raise NotFound(_("No such action."))
    try:
        service(session=session, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        labels = {
            "pause": _("Paused. The timer is stopped."),
            "resume": _("Resumed."),
            "extend": _("Extended."),
            "stop": _("Stopping the lab. Your answers and score are kept.")
            if session.has_lab
            else _("Ended. Your answers and score are kept."),
        }
        messages.success(request, labels[action])
    return redirect("environments:detail", pk=session.pk)


@login_required
@require_POST
def session_machine_reset(request: HttpRequest, pk, machine: str) -> HttpResponse:
    session = selectors.env_session_get_for_user(user=request.user, pk=pk)
    try:
        services.env_session_machine_reset(session=session, actor=request.user, machine=machine)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.info(
            request, _("Resetting %(machine)s: it starts again as it was at the start.") % {"machine": machine}
        )
    if request.htmx:  # asked for confirmation through htmx: load the page again with its message
        return HttpResponse(headers={"HX-Redirect": reverse("environments:detail", args=[session.pk])})
    return redirect("environments:detail", pk=session.pk)


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    """The free-text answers waiting for this creator's or admin's decision."""
    if not (request.user.is_staff or request.user.is_platform_admin):
        raise DjangoPermissionDenied(_("Only creators and admins review answers."))
    pending = selectors.env_answers_pending_review(user=request.user)
    return render(request, "environments/reviews.html", {"pending": pending})


@login_required
@require_POST
def review_decide(request: HttpRequest, pk) -> HttpResponse:
    session = selectors.env_session_get_for_reviewer(user=request.user, pk=pk)
    decision = request.POST.get("decision")
    try:
        services.env_answer_review(
            session=session,
            actor=request.user,
            question_id=request.POST.get("question_id", ""),
            accepted={"accept": True, "reject": False}.get(decision),
            comment=request.POST.get("comment", ""),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Answer accepted.") if decision == "accept" else _("Answer rejected."))
    return redirect("environments:reviews")
