"""Factories for paths, playlists and completed sessions.

``running_session`` + ``answer_all`` reach a completed session through the environment services
(start, mark running with an empty runtime result, answer every question) without containers.
``completed_session_row`` writes an already-completed ``EnvironmentSession`` row directly; it is
for badge-rule and concurrency tests, where the session's history does not matter, only that a
completed session of that scenario exists.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.utils import timezone

from apps.accounts.factories import AdminFactory
from apps.environments import services as env_services
from apps.environments.models import EnvironmentSession, SessionStatus
from apps.paths import services
from apps.scenarios.factories import published_version


def running_session(*, user, version) -> EnvironmentSession:
    """Start a session and mark it running with an empty runtime result (no containers).

    Call it outside ``django_capture_on_commit_callbacks(execute=True)``: provisioning would start Docker.
    Wrap ``answer_all`` in it instead, to fire the completion hooks.
    """
    session = env_services.env_session_start(user=user, version=version)
    session = env_services.env_session_mark_running(session=session, result=SimpleNamespace(machines={}, networks={}))
    return session


def answer_all(*, session: EnvironmentSession, answer: str = "RX{demo}") -> EnvironmentSession:
    for question in session.scenario_version.questions:
        env_services.env_session_submit_answer(
            session=session, actor=session.user, question_id=question["id"], answer=answer
        )
    session.refresh_from_db()
    return session


def completed_session_row(*, user, version, score: int = 10, completed: bool = True, when=None) -> EnvironmentSession:
    """Write a terminated session row, completed unless told otherwise. No containers, no hooks run.

    Acceptable for badge-rule tests only: real completions go through ``env_session_submit_answer``.
    """
    now = when or timezone.now()
    return EnvironmentSession.objects.create(
        user=user,
        scenario_version=version,
        status=SessionStatus.TERMINATED,
        started_at=now,
        ended_at=now,
        score=score,
        completed_at=now if completed else None,
        answers={"q1": {"correct": completed}},
    )


def career_path(*, admin=None, versions=(), is_public: bool = True, title: str = "Web basics"):
    """Return a career path with ``versions`` as its items, built through the services."""
    admin = admin or AdminFactory()
    path = services.career_path_create(actor=admin, title=title, is_public=False)
    for version in versions:
        services.collection_item_add(container=path, actor=admin, version=version)
    if is_public:
        path = services.collection_update(container=path, actor=admin, is_public=True)
    return path


def playlist(*, owner, versions=(), is_public: bool = False, title: str = "My list"):
    pl = services.playlist_create(owner=owner, title=title)
    for version in versions:
        services.collection_item_add(container=pl, actor=owner, version=version)
    if is_public:
        pl = services.collection_update(container=pl, actor=owner, is_public=True)
    return pl


__all__ = ["answer_all", "career_path", "completed_session_row", "playlist", "published_version", "running_session"]
