"""Print the platform at a glance; exit 0 when ok, 1 when degraded, 2 when down."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.selectors_dashboard import platform_overview
from apps.ops.status import as_json, overview_as_dict, platform_status_report


class Command(BaseCommand):
    help = (
        "Show every component's state (database, cache, broker, engine, web, worker and beat heartbeats, "
        "health checks, budget), sessions by state, containers and cost. Exit 0 ok, 1 degraded, 2 down."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, json=False, **options):
        report = platform_status_report()
        try:
            overview = platform_overview()
        except Exception as exc:
            # The database is down: the components above already say so.
            overview, report["overview_error"] = None, type(exc).__name__
        if json:
            self.stdout.write(as_json({**report, "overview": overview_as_dict(overview) if overview else None}))
        else:
            self._text(report, overview)
        if report["exit_code"]:
            raise CommandError(f"RangeX is {report['status']}.", returncode=report["exit_code"])

    def _text(self, report, o):
        w = self.stdout.write
        w(f"Status: {report['status']}")
        for name, component in report["components"].items():
            w(f"  {name:<10} {component['status']:<9} {component['message']}")
        if o is None:
            return
        w("Sessions: " + (", ".join(f"{k}={v}" for k, v in sorted(o["sessions"].items())) or "none"))
        w(f"Containers running: {o['containers']}")
        w(f"Cost today: RM {o['cost_today_rm']:.2f}")
        cap = f" of USD {o['cap_usd']} ({o['budget_pct']}%)" if o["cap_usd"] else " (no cap)"
        w(f"This month: RM {o['month_rm']:.2f} = USD {o['month_usd']}{cap}")
        w(f"Maintenance mode: {'on' if o['maintenance'] else 'off'}")
        if o["budget_paused"] or o["budget_overridden"]:
            w(
                "Budget pause: "
                + ("on (the monthly cap)" if o["budget_paused"] else "overridden by an operator this month")
            )
        w("Last checks:")
        for check in o["checks"]:
            w(f"  {check.check_type:<15} {check.status:<8} {check.checked_at:%Y-%m-%d %H:%M} {check.message}")
        if not o["checks"]:
            w("  none yet")
