"""Run the health checks now."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.health import health_check_run


class Command(BaseCommand):
    help = "Check the engine, disk space, required images and stuck sessions (healing those). Exit 1 on a failure."

    def handle(self, *args, **options):
        checks = health_check_run()
        for check in checks:
            healed = f" [healed: {check.heal_action}]" if check.auto_healed else ""
            self.stdout.write(f"{check.check_type:<15} {check.status:<8} {check.message}{healed}")
        failed = [c.check_type for c in checks if c.status == "failed"]
        if failed:
            raise CommandError(f"Failed checks: {', '.join(failed)}")
