"""Send a test alert through every configured channel."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.alerts import alert_deliver, alert_send


class Command(BaseCommand):
    help = "Send a test alert to admin_emails and the Slack webhook now. Exit 1 if nothing could be delivered."

    def add_arguments(self, parser):
        parser.add_argument("--message", default="This is a test alert from RangeX.")

    def handle(self, *args, message, **options):
        rows = alert_send(alert_type="test", priority="low", subject="Test alert", message=message)
        if not rows:
            raise CommandError("No recipients: set admin_emails or slack_webhook_url in the system settings.")
        delivered = 0
        for row in rows:
            # Deliver now, so the operator sees the outcome; the queued task then finds it done.
            result = alert_deliver(alert_id=row.pk)
            delivered += result.status == "sent"
            self.stdout.write(f"{result.channel:<6} {result.recipient:<40} {result.status} {result.error_message}")
        if not delivered:
            raise CommandError("No channel accepted the alert.")
