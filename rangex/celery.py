"""The Celery application. The beat schedule is declared in apps.ops.beat and seeded into django-celery-beat."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rangex.settings")

app = Celery("rangex")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
