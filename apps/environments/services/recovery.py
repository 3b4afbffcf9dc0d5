"""Labs whose machines stopped behind the platform's back (an engine restart, a crash, a manual stop).

The ops reconcilers decide; these services record the outcome: a lab that came back keeps
running (or paused) with a note on its page and the lost time given back, and one that could not
come back is failed with the user told. What the gap costs is settled by ops (nothing).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from apps.environments.models import EnvironmentSession, SessionStatus
from apps.environments.services.common import push
from apps.environments.services.provision import env_session_mark_failed
from rangex.core.audit import AuditAction, audit_record


def env_session_mark_recovered(*, session: EnvironmentSession, down_since: datetime, machines: list[str]) -> bool:
    """Record that ``machines`` of a live lab stopped at ``down_since`` and are back now.

    A running lab gets the lost time added to its expiry. The solver's page shows the note, and
    the solver is notified. Return False when the session changed state meanwhile.
    """
    from rangex.core.notifications import notification_send

    now = timezone.now()
    lost = max(now - down_since, timedelta(0))
    note = (
        f"Your lab's machines ({', '.join(machines)}) stopped at {down_since:%H:%M} UTC and were started again at "
        f"{now:%H:%M} UTC. The time in between is not charged"
        + (" and was added to your lab's time." if session.status == SessionStatus.RUNNING else ".")
    )
    with transaction.atomic():
        changes = {"progress_message": note[:255], "version": F("version") + 1}
        if session.status == SessionStatus.RUNNING:
            changes["expires_at"] = F("expires_at") + lost
        changed = EnvironmentSession.objects.filter(pk=session.pk, status=session.status).update(**changes)
        if not changed:
            return False
        session.refresh_from_db()
        audit_record(
            actor=None,
            action=AuditAction.SESSION_RECOVERED,
            target=session,
            details={
                "machines": machines,
                "down_since": down_since.isoformat(),
                "lost_seconds": int(lost.total_seconds()),
            },
        )
        notification_send(
            user=session.user,
            type="session",
            title=gettext_lazy("Your lab was restarted"),
            body=note,
            link=f"/sessions/{session.pk}/",
        )
        transaction.on_commit(lambda: push(session.pk, {"type": "notice", "message": note}))
    if session.status == SessionStatus.RUNNING:
        push(session.pk, {"type": "status", "status": "running", "expires_at": session.expires_at.isoformat()})
    return True


def env_session_fail_broken(*, session: EnvironmentSession, reason: str) -> bool:
    """Fail a live lab whose machines could not come back, and tell its user; False if it had ended already."""
    from rangex.core.notifications import notification_send

    session = env_session_mark_failed(session=session, reason=reason)
    if session.status != SessionStatus.FAILED or session.reason_stopped != reason[:2000]:
        return False
    notification_send(
        user=session.user,
        type="session",
        title=gettext_lazy("Your lab stopped working"),
        body=format_lazy(
            gettext_lazy("{reason} It was ended; your answers and score are kept. Start it again to continue."),
            reason=reason,
        ),
        link=f"/sessions/{session.pk}/",
    )
    return True
