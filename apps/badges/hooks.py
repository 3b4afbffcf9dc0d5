"""Extension points of the badges app."""

from rangex.core.hooks import Hook

badge_awarded = Hook(
    "badges.badge_awarded",
    "Receivers ``(*, user_badge_id) -> None`` run after the commit of every personal badge award.",
)
