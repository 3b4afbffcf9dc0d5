"""Scenario endpoints: the solver catalog, ratings and favourites, and a creator's versions."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.scenarios import catalog, imports, selectors, services, social
from apps.scenarios.serializers import (
    CatalogDetailSerializer,
    CatalogFilterSerializer,
    CatalogVersionSerializer,
    CreatorVersionCreateSerializer,
    CreatorVersionSerializer,
    FavoriteOutSerializer,
    RatingInSerializer,
    RatingOutSerializer,
)
from rangex.core.schema import error_responses

CATALOG_PARAMETERS = [
    OpenApiParameter("q", OpenApiTypes.STR, description="Search title, short description and tags."),
    OpenApiParameter("category", OpenApiTypes.STR),
    OpenApiParameter("difficulty", OpenApiTypes.STR, enum=catalog.DIFFICULTY_ORDER),
    OpenApiParameter("type", OpenApiTypes.STR, enum=[t.value for t in catalog.CATALOG_TYPES]),
    OpenApiParameter("tag", OpenApiTypes.STR, many=True, description="Repeat to require several tags."),
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(catalog.SORTS)),
]


class CatalogPagination(PageNumberPagination):
    page_size = catalog.PAGE_SIZE


class CatalogListApi(generics.ListAPIView):
    """Browse the published scenarios (anonymous visitors too)."""

    permission_classes = [AllowAny]
    serializer_class = CatalogVersionSerializer
    pagination_class = CatalogPagination

    def get_queryset(self):
        params = {key: self.request.query_params.get(key) for key in ("q", "category", "difficulty", "type", "sort")}
        params = {key: value for key, value in params.items() if value is not None}
        params["tag"] = self.request.query_params.getlist("tag")
        filters = CatalogFilterSerializer(data=params)
        filters.is_valid(raise_exception=True)
        return catalog.catalog_list(user=self.request.user, **filters.filters())

    @extend_schema(parameters=CATALOG_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class CatalogDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=CatalogDetailSerializer)
    def get(self, request, slug):
        version = catalog.catalog_get(user=request.user, slug=slug)
        return Response(CatalogDetailSerializer(version).data)


class RatingApi(APIView):
    @extend_schema(request=RatingInSerializer, responses=RatingOutSerializer)
    def put(self, request, slug):
        version = catalog.catalog_get(user=request.user, slug=slug)
        rating = social.scenario_rate(user=request.user, scenario=version.scenario, rating=request.data.get("rating"))
        scenario = version.scenario
        body = {
            "rating": rating.rating,
            "average_rating": scenario.average_rating,
            "total_ratings": scenario.total_ratings,
        }
        return Response(RatingOutSerializer(body).data)


class FavoriteApi(APIView):
    def _set(self, request, slug, on: bool) -> Response:
        version = catalog.catalog_get(user=request.user, slug=slug)
        is_favorite = social.scenario_favorite_set(user=request.user, scenario=version.scenario, on=on)
        return Response(FavoriteOutSerializer({"slug": slug, "is_favorite": is_favorite}).data)

    @extend_schema(request=None, responses=FavoriteOutSerializer)
    def put(self, request, slug):
        return self._set(request, slug, True)

    # A DELETE that answers 200 with the new state, like the PUT; the schema must not promise a 204.
    @extend_schema(request=None, responses={200: FavoriteOutSerializer})
    def delete(self, request, slug):
        return self._set(request, slug, False)


class CreatorVersionListApi(generics.ListAPIView):
    """The signed-in creator's versions; POST creates a scenario with its first DRAFT."""

    serializer_class = CreatorVersionSerializer

    def get_queryset(self):
        return selectors.scenario_version_list_for_creator(user=self.request.user).order_by("-created_at")

    @extend_schema(
        request=CreatorVersionCreateSerializer, responses={201: CreatorVersionSerializer, **error_responses(409)}
    )
    def post(self, request):
        data = CreatorVersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.scenario_create(actor=request.user, **data.validated_data)
        return Response(CreatorVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class CreatorVersionDetailApi(APIView):
    @extend_schema(responses=CreatorVersionSerializer)
    def get(self, request, pk):
        version = selectors.scenario_version_get_for_creator(user=request.user, pk=pk)
        return Response(CreatorVersionSerializer(version).data)

    @extend_schema(request=CreatorVersionSerializer, responses={200: CreatorVersionSerializer, **error_responses(409)})
    def patch(self, request, pk):
        version = selectors.scenario_version_get_for_creator(user=request.user, pk=pk)
        data = CreatorVersionSerializer(version, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        version = services.scenario_version_update(version=version, actor=request.user, data=data.validated_data)
        return Response(CreatorVersionSerializer(version).data)


class CreatorVersionSubmitApi(APIView):
    @extend_schema(request=None, responses={200: CreatorVersionSerializer, **error_responses(409)})
    def post(self, request, pk):
        version = selectors.scenario_version_get_for_creator(user=request.user, pk=pk)
        version = services.scenario_version_submit(version=version, actor=request.user)
        return Response(CreatorVersionSerializer(version).data)


class ImportInSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A bundle .zip, a challenge.yml, a docker-compose.yml or a .zip of them.")
    partial = serializers.BooleanField(default=False, help_text="Import the valid challenges, report the rest.")
    new_version_of = serializers.SlugField(required=False, allow_blank=True, help_text="Slug to add a version to.")


class CreatorImportApi(APIView):
    """Import an upload as DRAFT versions; the answer is the report (imported, refused, warnings per challenge)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ImportInSerializer}, responses={201: dict, 400: dict})
    def post(self, request):
        data = ImportInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        report = imports.scenario_import(
            actor=request.user,
            data=upload,
            filename=upload.name,
            partial=data.validated_data["partial"],
            new_version_of=data.validated_data.get("new_version_of") or None,
        )
        code = status.HTTP_201_CREATED if report.imported else status.HTTP_400_BAD_REQUEST
        return Response(report.as_dict(), status=code)
