"""Extension points of the scenarios app; higher apps register receivers in their ``ready()``."""

from rangex.core.hooks import Hook

prerequisites_solved = Hook(
    "scenarios.prerequisites_solved",
    "Receivers ``(*, user, slugs) -> set[str]`` return which of the scenario ``slugs`` ``user`` has solved "
    "in practice (the environments app answers from the user's sessions).",
)

scenario_played = Hook(
    "scenarios.scenario_played",
    "Receivers ``(*, user, scenario) -> bool`` say whether ``user`` has finished a session of ``scenario`` "
    "(the environments app answers from the user's sessions); only players may rate a scenario.",
)

scenario_progress = Hook(
    "scenarios.scenario_progress",
    "Receivers ``(*, user, versions) -> dict`` return ``{scenario_id: percent}`` of ``user``'s own progress on "
    "the scenarios of ``versions`` (100: completed); the environments app answers from the learner's solves.",
)
