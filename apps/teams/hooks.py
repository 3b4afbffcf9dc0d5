"""Extension points of the teams app; higher apps register receivers in their ``ready()``."""

from rangex.core.hooks import Hook

team_page_context = Hook(
    "teams.team_page_context",
    "Receivers ``(*, team) -> dict`` add to the team page's template context (events adds the team's event history).",
)

team_deleting = Hook(
    "teams.team_deleting",
    "Receivers ``(*, team) -> bool`` return True to keep a team from being deleted (events: it has results).",
)

team_member_adding = Hook(
    "teams.team_member_adding",
    "Receivers ``(*, team, user, members) -> None`` may refuse a new member (a join, an approved request, an "
    "invitation) by raising an ApplicationError; ``members`` is the size before. Called under the team's row "
    "lock (events: a team registered in an event keeps to the event's team size).",
)

team_points_hidden = Hook(
    "teams.team_points_hidden",
    "Receivers ``(*, team_ids) -> dict[team id, int]`` return points each team's public standing must not show "
    "yet (events: what a team scored after a scoreboard freeze, until the event ends).",
)
