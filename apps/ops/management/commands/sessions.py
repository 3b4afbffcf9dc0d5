"""List or stop lab sessions during an incident."""

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from apps.environments.models import SessionStatus
from apps.ops.incidents import session_as_dict, sessions_for_operator, sessions_stop_by_operator
from apps.ops.status import as_json


class Command(BaseCommand):
    help = (
        "`sessions list [--state S ...] [--user EMAIL] [--scenario SLUG] [--json]` lists sessions (live ones by "
        "default); `sessions stop ID | --user EMAIL | --scenario SLUG` stops live sessions through the normal stop "
        "service, audited with the operator's name."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="List sessions.")
        listing.add_argument("--state", action="append", choices=SessionStatus.values, help="Repeatable.")
        listing.add_argument("--user", default="", help="The user's email address.")
        listing.add_argument("--scenario", default="", help="The scenario's slug.")
        listing.add_argument("--limit", type=int, default=200)
        listing.add_argument("--json", action="store_true", help="Print a JSON list instead of text.")
        stop = sub.add_parser("stop", help="Stop live sessions.")
        stop.add_argument("session_id", nargs="?", default="")
        stop.add_argument("--user", default="", help="Stop every live session of this email address.")
        stop.add_argument("--scenario", default="", help="Stop every live session of this scenario slug.")
        stop.add_argument("--reason", default="", help="Shown to the users and written to the audit log.")
        stop.add_argument("--as", dest="actor_email", default="", help="Your RangeX admin account, for the audit log.")
        stop.add_argument("--json", action="store_true", help="Print a JSON object instead of text.")

    def handle(self, *args, action, **options):
        if action == "list":
            return self._list(**options)
        return self._stop(**options)

    def _list(self, *, state=None, user="", scenario="", limit=200, json=False, **options):
        rows = [
            session_as_dict(s)
            for s in sessions_for_operator(states=state, user_email=user, scenario_slug=scenario)[:limit]
        ]
        if json:
            self.stdout.write(as_json(rows))
            return
        for row in rows:
            created = f"{row['created_at']:%Y-%m-%d %H:%M}"
            self.stdout.write(f"{row['id']}  {row['state']:<10} {row['user']:<32} {row['scenario']:<28} {created}")
        self.stdout.write(f"{len(rows)} session(s).")

    def _stop(self, *, session_id="", user="", scenario="", reason="", actor_email="", json=False, **options):
        if not (session_id or user or scenario):
            raise CommandError("Name a session id, --user EMAIL or --scenario SLUG.")
        actor = None
        if actor_email:
            actor = get_user_model().objects.filter(email__iexact=actor_email).first()
            if actor is None or not actor.is_platform_admin:
                raise CommandError(f"No platform admin has the address {actor_email!r}.")
        sessions = list(sessions_for_operator(session_id=session_id, user_email=user, scenario_slug=scenario))
        if session_id and not sessions:
            raise CommandError(f"No session {session_id}.")
        stopped = sessions_stop_by_operator(sessions=sessions, operator=getpass.getuser(), reason=reason, actor=actor)
        if json:
            self.stdout.write(as_json({"stopped": stopped}))
        else:
            self.stdout.write(f"Stopping {len(stopped)} session(s)." + "".join(f"\n  {pk}" for pk in stopped))
