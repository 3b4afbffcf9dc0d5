from celery import shared_task

from apps.accounts.services import send_plain_email


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(*, to: str, subject: str, body: str) -> None:
    send_plain_email(to=to, subject=subject, body=body)
