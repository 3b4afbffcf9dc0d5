"""Abstract base models shared by every app."""

import uuid

from django.db import models


class TimestampedModel(models.Model):
    """Add ``created_at`` and ``updated_at``, kept current even by ``save(update_fields=...)``."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "updated_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "updated_at"]
        super().save(*args, **kwargs)


class BaseModel(TimestampedModel):
    """A timestamped model with a random UUID primary key, so ids cannot be enumerated."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        abstract = True
