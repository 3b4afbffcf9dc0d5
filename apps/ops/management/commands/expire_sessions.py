"""Stop expired and idle sessions now."""

from django.core.management.base import BaseCommand

from apps.ops.reconcile import sessions_expire, sessions_stop_idle


class Command(BaseCommand):
    help = "Stop running sessions past their expiry time, and warn or stop idle ones."

    def handle(self, *args, **options):
        expired = sessions_expire()
        idle = sessions_stop_idle()
        self.stdout.write(f"Expired: {expired}. Idle stopped: {idle['stopped']}. Idle warned: {idle['warned']}.")
