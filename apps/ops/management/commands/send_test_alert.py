"""Send a test alert through every configured channel."""

from django.core.management.base import BaseCommand, CommandError

from apps.ops.alerts import alert_deliver_until_done, alert_send


class Command(BaseCommand):
    help = "Send a test alert to admin_emails and the Slack webhook now. Exit 1 if nothing could be delivered."

    def add_arguments(self, parser):
        parser.add_argument("--message", default="This is a test alert from RangeX.")

    def handle(self, *args, message, **options):
        # Delivered here and only here, so the operator sees the outcome and nothing is sent twice.
        rows = alert_send(
            alert_type="test",
            priority="low",
            subject="Test alert",
            message=message,
            queue=False,
            link="/admin/ops/alertlog/",
            next_step="Nothing: this alert only tests the channels.",
        )
        if not rows:
            raise CommandError("No recipients: set admin_emails or slack_webhook_url in the system settings.")
        delivered = 0
        for row in rows:
            # Retried a few times, then marked failed: never left pending with nobody to retry it.
            result = alert_deliver_until_done(alert_id=row.pk)
            delivered += result.status == "sent"
            self.stdout.write(f"{result.channel:<6} {result.recipient:<40} {result.status} {result.error_message}")
        if not delivered:
            raise CommandError("No channel accepted the alert.")
