"""Files written during a unit of work that fails are removed with it.

A database transaction rolls its rows back, but a file a ``FileField`` stored during it stays in
storage. Code that stores a file calls ``stored_file_track``; the outermost
``files_removed_on_error`` block deletes every tracked file when an exception leaves it, so a
refused save leaves neither rows nor files behind.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging

from django.core.files.storage import Storage

logger = logging.getLogger(__name__)

_tracked: contextvars.ContextVar[list[tuple[Storage, str]] | None] = contextvars.ContextVar(
    "rangex_files_tracked", default=None
)


def stored_file_track(*, storage: Storage, name: str) -> None:
    """Remember a file stored inside a ``files_removed_on_error`` block (outside one: nothing to do)."""
    tracked = _tracked.get()
    if tracked is not None and name:
        tracked.append((storage, name))


@contextlib.contextmanager
def files_removed_on_error():
    """Delete the files stored inside this block when an exception leaves it; nested blocks share the list."""
    outer = _tracked.get()
    if outer is not None:
        # The outermost block decides: an inner success may still be rolled back by the outer failure.
        yield
        return
    tracked: list[tuple[Storage, str]] = []
    token = _tracked.set(tracked)
    try:
        yield
    except BaseException:
        for storage, name in tracked:
            try:
                storage.delete(name)
            except Exception:  # a cleanup failure must not hide the error that caused it
                logger.exception("could not remove the stored file %s after a failed save", name)
        raise
    finally:
        _tracked.reset(token)
