"""Print a month's cost against the budgets."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.ops.costs import budget_report, month_start


def _month(value: str) -> date:
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise CommandError(f"--month must look like 2026-03, not {value!r}.") from None


class Command(BaseCommand):
    help = "Show the month's total cost (RM and USD) against the global cap, and every scenario budget."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: this month).")

    def handle(self, *args, month=None, **options):
        report = budget_report(month=_month(month) if month else month_start())
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
