"""Print a month's cost against the budgets; exit 0 within them, 1 near or over one, 2 at the global cap."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.ops.costs import budget_report, month_start
from apps.ops.status import EXIT_CODES, as_json, budget_state


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month must look like 2026-03, not {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Show the month's total cost (RM and USD) against the global cap, and every scenario budget. "
        "Exit 0 within budget, 1 when a scenario budget alerted or 80% of the cap is used, 2 at the cap."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: this month).")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, month=None, json=False, **options):
        report = budget_report(month=_month(month) if month else month_start())
        state = budget_state(report)
        if json:
            self.stdout.write(as_json({**report, "status": state["status"], "message": state["message"]}))
        else:
            self._text(report, state)
        if EXIT_CODES[state["status"]]:
            raise CommandError(state["message"], returncode=EXIT_CODES[state["status"]])

    def _text(self, report, state):
        w = self.stdout.write
        cap = f" of USD {report['cap_usd']}" if report["cap_usd"] else " (no cap)"
        w(f"Month {report['month']:%Y-%m}: RM {report['total_rm']:.2f} = USD {report['total_usd']}{cap}")
        if not report["scenarios"]:
            w("No scenario budgets.")
        for row in report["scenarios"]:
            w(
                f"  {row['scenario']:<30} RM {row['cost_rm']:>10.2f} / {row['limit_rm']:>8}  "
                f"{row['percentage']:>6}%  forecast RM {row['forecast_rm']:.2f}  {row['status']}"
            )
        w(f"Status: {state['status']} ({state['message']})")
