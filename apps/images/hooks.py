"""Extension points of the images app; higher apps register receivers in their ``ready()``."""

from __future__ import annotations

from rangex.core.hooks import Hook

image_users_hook = Hook(
    "images.image_users",
    "Receivers ``(*, refs, live_only) -> dict[str, list[str]]`` return, for each image reference of "
    "``refs`` that something uses, who uses it in words (the scenarios app names the versions whose "
    "machines run it; ``live_only`` leaves out archived versions).",
)


def image_users(*, refs: list[str], live_only: bool = False) -> dict[str, list[str]]:
    """Return image reference -> who uses it, from every receiver (references nobody uses are absent)."""
    merged: dict[str, list[str]] = {}
    if not refs:
        return merged
    for answer in image_users_hook.send(refs=list(refs), live_only=live_only):
        for ref, names in (answer or {}).items():
            merged.setdefault(ref, []).extend(names)
    return merged
