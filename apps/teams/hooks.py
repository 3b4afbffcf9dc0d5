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
