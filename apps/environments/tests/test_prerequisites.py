"""Practice prerequisites: a scenario is locked until the solver solved the scenarios it requires."""

from __future__ import annotations

import pytest

from apps.environments import launch, services
from apps.environments.factories import STATIC_FLAG, pivot_version
from apps.environments.selectors import solved_scenario_slugs
from rangex.core.errors import Conflict


def test_practice_start_is_refused_until_the_prerequisite_is_solved(
    solver, client, test_image, django_capture_on_commit_callbacks, cleanup_sessions
):
    required = pivot_version(title="Warm Up Lab")
    locked = pivot_version(
        title="Locked Lab", metadata={"requirements": {"prerequisites": [required.scenario.slug, "retired-slug"]}}
    )
    with pytest.raises(Conflict, match="locked until you solve Warm Up Lab"):
        services.env_session_start(user=solver, version=locked)
    client.force_login(solver)
    page = client.get(f"/scenarios/{locked.scenario.slug}/").content.decode()
    assert "Locked." in page and "Warm Up Lab" in page and "retired-slug" not in page

    with django_capture_on_commit_callbacks(execute=True):
        session = services.env_session_start(user=solver, version=required)
    cleanup_sessions.append(session.pk)
    session.refresh_from_db()
    answers = {"q1": STATIC_FLAG, "q2": launch.session_flag(session_id=session.pk, question_id="q2"), "q3": 1}
    for question_id, answer in answers.items():
        services.env_session_submit_answer(session=session, actor=solver, question_id=question_id, answer=answer)
    assert solved_scenario_slugs(user=solver, slugs=[required.scenario.slug]) == {required.scenario.slug}

    page = client.get(f"/scenarios/{locked.scenario.slug}/").content.decode()
    assert "Locked." not in page and "Prerequisites (solved)" in page
    with django_capture_on_commit_callbacks(execute=True):
        services.env_session_stop(session=session, actor=solver)
    # Unlocked now; the lab is only queued here (the launch itself is tested elsewhere).
    assert services.env_session_start(user=solver, version=locked).scenario_version_id == locked.pk
