"""Review endpoints for admins: test-deploy a version, read its runs, approve and publish it (behind the gate)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.scenarios import selectors, services
from apps.scenarios.models import ScenarioVersionTestRun
from apps.scenarios.testing import content_hash, version_test_deploy_request
from rangex.core.errors import NotFound, PermissionDenied
from rangex.core.schema import error_responses


class TestRunSerializer(serializers.ModelSerializer):
    version = serializers.UUIDField(source="scenario_version_id")
    current = serializers.SerializerMethodField(help_text="Whether the run tested the version's current content.")

    class Meta:
        model = ScenarioVersionTestRun
        fields = [
            "id",
            "version",
            "status",
            "keep",
            "content_hash",
            "current",
            "created_at",
            "started_at",
            "completed_at",
            "duration_seconds",
            "error_message",
            "test_results",
            "logs",
        ]

    def get_current(self, run) -> bool:
        return run.content_hash == content_hash(run.scenario_version)


class TestDeployInSerializer(serializers.Serializer):
    keep = serializers.BooleanField(default=False, help_text="Leave the lab running after the run.")


class ReviewVersionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    version_number = serializers.IntegerField()


def _admin_version(request, pk):
    if not request.user.is_platform_admin:
        raise PermissionDenied(_("Only admins review scenario versions."))
    return selectors.scenario_version_get_for_creator(user=request.user, pk=pk)


class VersionTestDeployApi(APIView):
    """Start a test deployment of a version (202), or get the one already running for it (200)."""

    @extend_schema(request=TestDeployInSerializer, responses={202: TestRunSerializer, 200: TestRunSerializer})
    def post(self, request, pk):
        version = _admin_version(request, pk)
        data = TestDeployInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        before = set(version.test_runs.values_list("pk", flat=True))
        run = version_test_deploy_request(version=version, actor=request.user, keep=data.validated_data["keep"])
        run.refresh_from_db()
        code = status.HTTP_200_OK if run.pk in before else status.HTTP_202_ACCEPTED
        return Response(TestRunSerializer(run).data, status=code)

    @extend_schema(responses=TestRunSerializer(many=True))
    def get(self, request, pk):
        version = _admin_version(request, pk)
        runs = version.test_runs.select_related("scenario_version").order_by("-created_at")[:20]
        return Response(TestRunSerializer(runs, many=True).data)


class TestRunDetailApi(APIView):
    @extend_schema(responses=TestRunSerializer)
    def get(self, request, pk):
        if not request.user.is_platform_admin:
            raise PermissionDenied(_("Only admins read test deployments."))
        run = ScenarioVersionTestRun.objects.select_related("scenario_version").filter(pk=pk).first()
        if run is None:
            raise NotFound(_("No such test deployment."))
        return Response(TestRunSerializer(run).data)


class VersionApproveApi(APIView):
    """Approve a submitted version; 409 without a passing test run of its content while the gate is on."""

    @extend_schema(request=None, responses={200: ReviewVersionSerializer, **error_responses(409)})
    def post(self, request, pk):
        version = services.scenario_version_approve(version=_admin_version(request, pk), actor=request.user)
        return Response(ReviewVersionSerializer(version).data)


class VersionPublishApi(APIView):
    """Publish an approved version; 409 without a passing test run of its content while the gate is on."""

    @extend_schema(request=None, responses={200: ReviewVersionSerializer, **error_responses(409)})
    def post(self, request, pk):
        version = services.scenario_version_publish(version=_admin_version(request, pk), actor=request.user)
        return Response(ReviewVersionSerializer(version).data)
