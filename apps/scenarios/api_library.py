"""Asset-library endpoints for creators: list and search, upload, delete, attach to and detach from versions."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.scenarios import library, selectors
from apps.scenarios.models import Asset, AssetScenarioVersion, AssetType, Machine
from rangex.core.errors import NotFound, PermissionDenied
from rangex.core.schema import error_responses


class AssetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Asset
        fields = ["id", "name", "file_name", "description", "tags", "type", "size_bytes", "sha256", "asset_location"]
        read_only_fields = fields


class AssetUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, max_length=255)
    tags = serializers.CharField(required=False, allow_blank=True, help_text="Comma-separated.")


class AttachSerializer(serializers.Serializer):
    asset = serializers.UUIDField()
    asset_type = serializers.ChoiceField(choices=AssetType.choices, default=AssetType.DOWNLOAD)
    machine = serializers.UUIDField(required=False, allow_null=True)
    target_path = serializers.CharField(required=False, allow_blank=True, default="")
    permissions = serializers.CharField(required=False, default="0644")


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = AssetScenarioVersion
        fields = ["id", "asset", "asset_type", "machine", "target_path", "permissions"]
        read_only_fields = fields


def _require_creator(user) -> None:
    if not getattr(user, "is_staff", False):
        raise PermissionDenied(_("Only creators and admins use the asset library."))


class AssetListApi(generics.ListAPIView):
    """Library assets any creator may attach; ``q`` searches names, ``tag`` a tag. POST uploads one."""

    serializer_class = AssetSerializer
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR), OpenApiParameter("tag", OpenApiTypes.STR)])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        _require_creator(self.request.user)
        params = self.request.query_params
        return library.asset_search(query=params.get("q", ""), tag=params.get("tag", ""))

    @extend_schema(
        request={"multipart/form-data": AssetUploadSerializer},
        responses={201: AssetSerializer, **error_responses(403, 503)},
    )
    def post(self, request):
        data = AssetUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        asset = library.asset_upload(
            actor=request.user,
            upload=values["file"],
            name=values.get("name", ""),
            description=values.get("description", ""),
            tags=values.get("tags", ""),
        )
        return Response(AssetSerializer(asset).data, status=status.HTTP_201_CREATED)


class AssetDetailApi(APIView):
    @extend_schema(request=None, responses={204: None, **error_responses(403, 409)})
    def delete(self, request, pk):
        _require_creator(request.user)
        asset = Asset.objects.filter(pk=pk, deleted_from_minio=False).first()
        if asset is None:
            raise NotFound(_("No such asset."))
        library.asset_delete(asset=asset, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VersionAttachApi(APIView):
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=AttachSerializer, responses={201: AttachmentSerializer, **error_responses(409)})
    def post(self, request, pk):
        version = selectors.scenario_version_get_for_creator(user=request.user, pk=pk)
        data = AttachSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        asset = Asset.objects.filter(pk=values["asset"], deleted_from_minio=False).first()
        if asset is None:
            raise NotFound(_("No such asset."))
        machine = None
        if values.get("machine"):
            machine = Machine.objects.filter(pk=values["machine"], scenario_version=version).first()
            if machine is None:
                raise NotFound(_("No such machine in this version."))
        link = library.asset_attach(
            version=version,
            asset=asset,
            actor=request.user,
            asset_type=values["asset_type"],
            machine=machine,
            target_path=values["target_path"],
            permissions=values["permissions"],
        )
        return Response(AttachmentSerializer(link).data, status=status.HTTP_201_CREATED)


class VersionDetachApi(APIView):
    @extend_schema(request=None, responses={204: None, **error_responses(409)})
    def delete(self, request, pk, link_pk):
        version = selectors.scenario_version_get_for_creator(user=request.user, pk=pk)
        link = AssetScenarioVersion.objects.filter(pk=link_pk, scenario_version=version).first()
        if link is None:
            raise NotFound(_("No such attachment on this version."))
        library.asset_detach(link=link, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
