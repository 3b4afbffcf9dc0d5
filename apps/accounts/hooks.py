"""Extension points of the accounts app; higher apps register receivers in their ``ready()``."""

from rangex.core.hooks import Hook

user_deleting = Hook(
    "accounts.user_deleting",
    "Receivers ``(*, user, actor) -> dict`` run inside the deletion's transaction, on the locked user, "
    "before the row goes (environments stops the user's labs). They return counts for the audit row.",
)
