"""Extension points of the environments app; higher apps register receivers in their ``ready()``."""

from rangex.core.hooks import Hook

session_access = Hook(
    "environments.session_access",
    "Receivers ``(*, user, session) -> bool`` let more people than the owner and admins into a session "
    "(the events app lets teammates into a team's shared lab).",
)

session_watch = Hook(
    "environments.session_watch",
    "Receivers ``(*, user, session) -> bool`` let someone who is not the owner watch a session's desktops "
    "view-only (the events app lets an event's organiser watch its labs); admins always may.",
)

session_answer = Hook(
    "environments.session_answer",
    "Receivers ``(*, session, actor, question_id, answer) -> dict | None`` take an answer given in a session that "
    "belongs to an event and score it there (events: the event's answer path, which grades it in the lab); the "
    "first result that is not None is what the solver gets, shaped like ``env_session_submit_answer``'s.",
)

session_start_check = Hook(
    "environments.session_start_check",
    "Receivers ``(*, user, version, now) -> None`` may refuse a start by raising an ApplicationError "
    "(operations refuses a scenario whose monthly budget is spent). Called under the user's row lock.",
)

session_completed = Hook(
    "environments.session_completed",
    "Receivers ``(*, session_id) -> None`` react to a session whose every question is solved (paths tell "
    "the user about finished paths, then badges are evaluated). Called after commit; a failing receiver "
    "is logged and does not stop the others.",
)

answer_accepted = Hook(
    "environments.answer_accepted",
    "Receivers ``(*, session_id, question_id, actor) -> None`` learn that a reviewer accepted a free-text answer "
    "of a session that belongs to an event (events: the solve reaches the event's scoreboard). Called after "
    "commit; a failing receiver is logged and does not stop the others.",
)

pool_budget = Hook(
    "environments.pool_budget",
    "Receivers ``(*, now) -> PoolBudget | None`` say what the warm pools may spend: what is left under the "
    "month's budget cap and whether they may fill at all (operations answers from its cost figures).",
)

session_next_steps = Hook(
    "environments.session_next_steps",
    "Receivers ``(*, session) -> list[dict]`` offer what to do after a finished practice lab, each as "
    '``{"label", "title", "url"}`` (paths: the next item of each path the lab belongs to).',
)
