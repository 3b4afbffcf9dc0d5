"""Learning paths (admin-curated) and playlists (anyone's), each an ordered list of scenario versions.

Both share one shape: a titled, optionally public collection with an owner and a cover, and items
that point at a scenario version with a ``sort_order``. Progress is measured per *scenario*, so a
version archived in favour of a newer one keeps the progress earned on it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rangex.core.models import BaseModel


class Collection(BaseModel):
    """The columns career paths and playlists share."""

    title = models.CharField(_("title"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    is_public = models.BooleanField(_("is public"), default=False, db_index=True)
    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner user")
    )
    cover_image = models.ImageField(
        _("cover image"), upload_to="covers/", max_length=500, null=True, blank=True, db_column="cover_image_url"
    )

    class Meta:
        abstract = True
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class CollectionItem(models.Model):
    id = models.BigAutoField(primary_key=True)
    scenario_version = models.ForeignKey(
        "scenarios.ScenarioVersion", on_delete=models.PROTECT, related_name="+", verbose_name=_("scenario version")
    )
    sort_order = models.PositiveIntegerField(_("sort order"), default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "id"]


class CareerPath(Collection):
    """A learning path curated by admins (``career_path``)."""

    class Meta(Collection.Meta):
        db_table = "career_path"
        verbose_name = _("career path")
        verbose_name_plural = _("career paths")

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("paths:detail", args=[self.pk])


class CareerPathItem(CollectionItem):
    """One step of a path (``career_path_item``)."""

    career_path = models.ForeignKey(
        CareerPath, on_delete=models.CASCADE, related_name="items", verbose_name=_("career path")
    )
    # Items of the same path to complete first; cycles are refused (``apps.paths.prerequisites``).
    requires = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="unlocks",
        db_table="career_path_item_requires",
        verbose_name=_("requires"),
    )

    class Meta(CollectionItem.Meta):
        db_table = "career_path_item"
        constraints = [
            models.UniqueConstraint(fields=["career_path", "scenario_version"], name="career_path_item_unique"),
        ]
        verbose_name = _("career path item")
        verbose_name_plural = _("career path items")

    def __str__(self) -> str:
        return f"{self.sort_order}. {self.scenario_version.title}"

    @property
    def container(self) -> CareerPath:
        return self.career_path


class Playlist(Collection):
    """A solver's (or an admin's) collection of scenarios (``playlist``); private until shared."""

    class Meta(Collection.Meta):
        db_table = "playlist"
        verbose_name = _("playlist")
        verbose_name_plural = _("playlists")

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("paths:playlist_detail", args=[self.pk])


class PlaylistItem(CollectionItem):
    """One entry of a playlist (``playlist_item``)."""

    playlist = models.ForeignKey(Playlist, on_delete=models.CASCADE, related_name="items", verbose_name=_("playlist"))

    class Meta(CollectionItem.Meta):
        db_table = "playlist_item"
        constraints = [
            models.UniqueConstraint(fields=["playlist", "scenario_version"], name="playlist_item_unique"),
        ]
        verbose_name = _("playlist item")
        verbose_name_plural = _("playlist items")

    def __str__(self) -> str:
        return f"{self.sort_order}. {self.scenario_version.title}"

    @property
    def container(self) -> Playlist:
        return self.playlist


class PathCertificate(models.Model):
    """A learner's certificate of completing a career path (``career_path_certificate``); its id is the link."""

    id = models.UUIDField(_("id"), primary_key=True, default=uuid.uuid4, editable=False)
    career_path = models.ForeignKey(
        CareerPath, on_delete=models.CASCADE, related_name="certificates", verbose_name=_("career path")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    completed_at = models.DateTimeField(_("completed at"))
    issued_at = models.DateTimeField(_("issued at"), auto_now_add=True)

    class Meta:
        db_table = "career_path_certificate"
        constraints = [
            models.UniqueConstraint(fields=["career_path", "user"], name="career_path_certificate_unique"),
        ]
        verbose_name = _("path certificate")
        verbose_name_plural = _("path certificates")

    def __str__(self) -> str:
        return f"{self.career_path} for {self.user_id}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("paths:certificate_verify", args=[self.pk])
