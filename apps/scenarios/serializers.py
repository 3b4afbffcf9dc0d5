"""API shapes of scenarios. Solver-facing serializers name every field: nothing secret can slip in."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.scenarios import catalog, downloads
from apps.scenarios.models import Difficulty, ScenarioVersion
from apps.scenarios.services import EDITABLE_FIELDS


class CatalogFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=100)
    category = serializers.CharField(required=False, allow_blank=True, max_length=64)
    difficulty = serializers.ChoiceField(required=False, allow_blank=True, choices=Difficulty.choices)
    type = serializers.ChoiceField(
        required=False, allow_blank=True, choices=[(t.value, t.label) for t in catalog.CATALOG_TYPES]
    )
    tag = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    sort = serializers.ChoiceField(required=False, choices=list(catalog.SORT_LABELS.items()), default="newest")

    def filters(self) -> dict:
        return catalog.catalog_filters(self.validated_data)


class CatalogVersionSerializer(serializers.Serializer):
    slug = serializers.CharField(source="scenario.slug")
    version_id = serializers.UUIDField(source="id")
    version_number = serializers.IntegerField()
    title = serializers.CharField()
    short_description = serializers.CharField()
    category = serializers.CharField()
    difficulty = serializers.CharField()
    scenario_type = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    estimated_minutes = serializers.IntegerField()
    cover_image = serializers.SerializerMethodField()
    creator_name = serializers.CharField(allow_null=True)
    average_rating = serializers.DecimalField(source="scenario.average_rating", max_digits=3, decimal_places=2)
    total_ratings = serializers.IntegerField(source="scenario.total_ratings")
    is_favorite = serializers.BooleanField()
    my_rating = serializers.IntegerField(allow_null=True)
    published_at = serializers.DateTimeField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cover_image(self, version) -> str | None:
        return version.cover_image.url if version.cover_image else None


class CatalogMachineSerializer(serializers.Serializer):
    name = serializers.CharField()
    role = serializers.CharField()
    network_group = serializers.CharField()
    solver_can_enter = serializers.BooleanField()
    is_pivot_host = serializers.BooleanField()


class CatalogNetworkGroupSerializer(serializers.Serializer):
    name = serializers.CharField()
    machines = CatalogMachineSerializer(many=True)


class CatalogLinkSerializer(serializers.Serializer):
    source = serializers.CharField()
    target = serializers.CharField()


class CatalogTopologySerializer(serializers.Serializer):
    machines = CatalogMachineSerializer(many=True)
    groups = CatalogNetworkGroupSerializer(many=True)
    links = CatalogLinkSerializer(many=True)


class DownloadSerializer(serializers.Serializer):
    name = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    description = serializers.CharField()
    url = serializers.CharField(help_text="Access-checked; redirects to a short-lived signed URL on object storage.")


class CatalogDetailSerializer(CatalogVersionSerializer):
    mission_text = serializers.CharField(help_text="Markdown.")
    learning_outcomes = serializers.CharField(allow_null=True)
    code_of_ethics = serializers.CharField(allow_null=True)
    requires_machines = serializers.BooleanField()
    validation_mode = serializers.CharField()
    scoring_mode = serializers.CharField()
    hint_mode = serializers.CharField()
    topology = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    @extend_schema_field(CatalogTopologySerializer)
    def get_topology(self, version) -> dict:
        return CatalogTopologySerializer(catalog.catalog_topology(version)).data

    @extend_schema_field(DownloadSerializer(many=True))
    def get_downloads(self, version) -> list:
        return DownloadSerializer(downloads.solver_downloads(version=version), many=True).data


class RatingInSerializer(serializers.Serializer):
    # Checked by the rating service, so every interface gives the same message.
    rating = serializers.IntegerField(help_text="A whole number from 1 to 5.")


class RatingOutSerializer(serializers.Serializer):
    rating = serializers.IntegerField()
    average_rating = serializers.DecimalField(max_digits=3, decimal_places=2)
    total_ratings = serializers.IntegerField()


class FavoriteOutSerializer(serializers.Serializer):
    slug = serializers.CharField()
    is_favorite = serializers.BooleanField()


class CreatorVersionSerializer(serializers.ModelSerializer):
    """A creator's own version: its content (writable while DRAFT) and its place in the review."""

    slug = serializers.CharField(source="scenario.slug", read_only=True)

    class Meta:
        model = ScenarioVersion
        fields = [
            "id",
            "slug",
            "version_number",
            "status",
            *[f for f in EDITABLE_FIELDS if f != "cover_image"],
            "submitted_at",
            "approved_at",
            "rejected_at",
            "reject_reason",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "version_number",
            "status",
            "submitted_at",
            "approved_at",
            "rejected_at",
            "reject_reason",
            "published_at",
            "created_at",
            "updated_at",
        ]


class CreatorVersionCreateSerializer(CreatorVersionSerializer):
    """A new scenario and its first DRAFT version; ``slug`` names the scenario for good."""

    slug = serializers.SlugField(max_length=120)
