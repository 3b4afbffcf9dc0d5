"""Career paths and playlists under /api/v1/: lists and details with the caller's progress, playlist editing."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.paths import selectors, services
from apps.scenarios.models import ScenarioVersion
from rangex.core.selectors import get_one


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    position = serializers.IntegerField(source="item.sort_order")
    scenario_version = serializers.UUIDField(source="item.scenario_version_id")
    scenario = serializers.CharField(source="item.scenario_version.scenario.slug")
    title = serializers.CharField(source="item.scenario_version.title")
    percent = serializers.IntegerField()
    completed = serializers.BooleanField()


class ProgressSerializer(serializers.Serializer):
    completed = serializers.IntegerField()
    total = serializers.IntegerField()
    percent = serializers.IntegerField()
    next_item = serializers.IntegerField(allow_null=True, help_text="The id of the first item not completed yet.")


class ContainerSerializer(serializers.Serializer):
    """A path or playlist with the caller's progress (documents the output of ``_container_data``)."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    description = serializers.CharField()
    is_public = serializers.BooleanField()
    owner = serializers.UUIDField()
    cover_image = serializers.CharField(allow_null=True)
    progress = ProgressSerializer()
    items = ItemSerializer(many=True)


def _container_data(container, progress) -> dict:
    next_item = progress.next_item
    return {
        "id": str(container.pk),
        "title": container.title,
        "description": container.description,
        "is_public": container.is_public,
        "owner": str(container.owner_user_id),
        "cover_image": container.cover_image.url if container.cover_image else None,
        "progress": {
            "completed": progress.completed_count,
            "total": progress.total,
            "percent": progress.percent,
            "next_item": next_item.pk if next_item else None,
        },
        "items": ItemSerializer(progress.items, many=True).data,
    }


def _many(user, containers) -> list[dict]:
    containers = list(containers)
    progress = selectors.progress_for_many(user=user, containers=containers)
    return [_container_data(c, progress[c.pk]) for c in containers]


class _ContainerListApi(generics.ListAPIView):
    """A page of paths or playlists, each with the caller's progress (paginated as the catalog is)."""

    serializer_class = ContainerSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(_many(request.user, page))


class PathListApi(_ContainerListApi):
    def get_queryset(self):
        return selectors.career_path_list_for_user(user=self.request.user).order_by("title", "id")


class PathDetailApi(APIView):
    @extend_schema(responses=ContainerSerializer)
    def get(self, request, pk):
        return Response(_many(request.user, [selectors.career_path_get_for_user(user=request.user, pk=pk)])[0])


class PlaylistWriteSerializer(serializers.Serializer):
    """A playlist's editable fields; a new playlist needs its title (400 without), a change does not."""

    title = serializers.CharField(max_length=160)
    description = serializers.CharField(required=False, allow_blank=True)
    is_public = serializers.BooleanField(required=False)


class PlaylistUpdateSerializer(PlaylistWriteSerializer):
    title = serializers.CharField(max_length=160, required=False)


class PlaylistListApi(_ContainerListApi):
    def get_queryset(self):
        return selectors.playlist_list_for_user(user=self.request.user).order_by("title", "id")

    @extend_schema(request=PlaylistWriteSerializer, responses={201: ContainerSerializer})
    def post(self, request):
        data = PlaylistWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        playlist = services.playlist_create(owner=request.user, **data.validated_data)
        playlist = selectors.playlist_get_owned(user=request.user, pk=playlist.pk)
        return Response(_many(request.user, [playlist])[0], status=status.HTTP_201_CREATED)


class PlaylistDetailApi(APIView):
    @extend_schema(responses=ContainerSerializer)
    def get(self, request, pk):
        return Response(_many(request.user, [selectors.playlist_get_for_user(user=request.user, pk=pk)])[0])

    @extend_schema(request=PlaylistUpdateSerializer, responses=ContainerSerializer)
    def patch(self, request, pk):
        playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
        data = PlaylistUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.collection_update(container=playlist, actor=request.user, **data.validated_data)
        return Response(_many(request.user, [selectors.playlist_get_owned(user=request.user, pk=pk)])[0])

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.collection_delete(container=selectors.playlist_get_owned(user=request.user, pk=pk), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemAddSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField()
    position = serializers.IntegerField(required=False)


class PlaylistItemsApi(APIView):
    @extend_schema(request=ItemAddSerializer, responses={201: ContainerSerializer})
    def post(self, request, pk):
        playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
        data = ItemAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = get_one(ScenarioVersion.objects.select_related("scenario"), _("No such published scenario."),
                          pk=data.validated_data["scenario_version"])  # fmt: skip
        services.collection_item_add(
            container=playlist, actor=request.user, version=version, position=data.validated_data.get("position")
        )
        return Response(_many(request.user, [selectors.playlist_get_owned(user=request.user, pk=pk)])[0], status=201)


class ItemMoveSerializer(serializers.Serializer):
    position = serializers.IntegerField()


class PlaylistItemApi(APIView):
    @extend_schema(request=ItemMoveSerializer, responses=ContainerSerializer)
    def patch(self, request, pk, item_pk):
        playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
        item = get_one(playlist.items.all(), _("No such item."), pk=item_pk)
        data = ItemMoveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.collection_item_move(item=item, actor=request.user, position=data.validated_data["position"])
        return Response(_many(request.user, [selectors.playlist_get_owned(user=request.user, pk=pk)])[0])

    @extend_schema(responses={204: None})
    def delete(self, request, pk, item_pk):
        playlist = selectors.playlist_get_owned(user=request.user, pk=pk)
        services.collection_item_remove(item=get_one(playlist.items.all(), _("No such item."), pk=item_pk),
                                        actor=request.user)  # fmt: skip
        return Response(status=status.HTTP_204_NO_CONTENT)
