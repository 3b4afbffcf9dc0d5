"""Re-encrypt every stored secret with the newest key of FIELD_ENCRYPTION_KEYS."""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from rangex.core.crypto import DecryptionError, EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt secrets at rest with the newest key. Run after prepending a new key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            try:
                with transaction.atomic():
                    for obj in model._default_manager.select_for_update().iterator():
                        # Reading decrypts with any key; saving encrypts with the newest one.
                        obj.save(update_fields=fields)
                        count += 1
            except DecryptionError as exc:
                raise CommandError(f"{model._meta.label}: {exc} Keep the old key until rotation succeeds.") from None
            self.stdout.write(f"{model._meta.label}: {count} row(s) re-encrypted")
            total += count
        self.stdout.write(self.style.SUCCESS(f"Done: {total} row(s)."))
