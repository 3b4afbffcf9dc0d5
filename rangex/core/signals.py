from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from rangex.core.models import SystemSettings
from rangex.core.system import invalidate_settings_cache


@receiver([post_save, post_delete], sender=SystemSettings)
def _invalidate_settings(**kwargs):
    invalidate_settings_cache()
    transaction.on_commit(invalidate_settings_cache)
