"""Run the health checks now; exit 0 when ok, 1 when degraded, 2 when down."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.health import health_check_run
from apps.ops.liveness import liveness_alerts_check
from apps.ops.status import as_json, check_as_dict, platform_status_report


class Command(BaseCommand):
    help = (
        "Check the engine, disk space, required images and stuck sessions (healing those), then every component "
        "(database, cache, broker, web, worker and beat heartbeats, budget); alert about a stopped worker or beat. "
        "Exit 0 ok, 1 degraded, 2 down."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args, json=False, **options):
        try:
            checks = health_check_run()
            liveness_alerts_check()
        except Exception as exc:
            # The database (or what the checks record into) is down: the report below says which part.
            checks, error = [], f"The checks could not run: {type(exc).__name__}: {exc}"
        else:
            error = None
        report = platform_status_report()
        if json:
            self.stdout.write(as_json({**report, "checks": [check_as_dict(c) for c in checks], "error": error}))
        else:
            for check in checks:
                healed = f" [healed: {check.heal_action}]" if check.auto_healed else ""
                self.stdout.write(f"{check.check_type:<15} {check.status:<8} {check.message}{healed}")
            if error:
                self.stdout.write(error)
            self.stdout.write(f"Status: {report['status']}")
            for name, component in report["components"].items():
                self.stdout.write(f"  {name:<10} {component['status']:<9} {component['message']}")
        if report["exit_code"]:
            bad = [n for n, c in report["components"].items() if c["status"] == report["status"]]
            raise CommandError(f"RangeX is {report['status']}: {', '.join(bad)}", returncode=report["exit_code"])
