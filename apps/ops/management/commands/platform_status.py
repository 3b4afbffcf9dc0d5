"""Print the platform at a glance."""

from django.core.management.base import BaseCommand

from apps.ops.selectors_dashboard import platform_overview


class Command(BaseCommand):
    help = "Show sessions by state, containers, today's and this month's cost, budget use and the last checks."

    def handle(self, *args, **options):
        o = platform_overview()
        w = self.stdout.write
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
