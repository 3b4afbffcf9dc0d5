"""Event endpoints under /api/v1/events/: list, detail, registration, answers and the scoreboard."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.events import selectors, services
from apps.teams.selectors import team_get
from rangex.core.schema import error_responses


class EventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    start_date = serializers.DateTimeField()
    end_date = serializers.DateTimeField()
    timezone = serializers.CharField()
    format = serializers.CharField()
    phase = serializers.SerializerMethodField()
    max_participants = serializers.IntegerField(allow_null=True)
    registration_required = serializers.BooleanField()
    scoring_mode = serializers.CharField()
    dynamic_retroactive = serializers.BooleanField()
    first_blood_bonus = serializers.IntegerField()
    freeze_at = serializers.DateTimeField(allow_null=True)

    def get_phase(self, obj) -> str:
        return obj.phase()


class ChallengeSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField(source="scenario_version_id")
    title = serializers.CharField(source="scenario_version.title")
    sort_order = serializers.IntegerField()


class EventDetailSerializer(EventSerializer):
    challenges = serializers.SerializerMethodField()

    def get_challenges(self, obj) -> list:
        return ChallengeSerializer(selectors.event_challenges(event=obj), many=True).data


class RegisterSerializer(serializers.Serializer):
    team = serializers.UUIDField(required=False, allow_null=True)


class RegisteredSerializer(serializers.Serializer):
    participation = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)


class EventAnswerSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField()
    question_id = serializers.CharField(max_length=64)
    answer = serializers.JSONField()


class EventAnswerResultSerializer(serializers.Serializer):
    question_id = serializers.CharField()
    correct = serializers.BooleanField()
    message = serializers.CharField()
    points = serializers.IntegerField()
    total_points = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)


class EventListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=EventSerializer(many=True))
    def get(self, request):
        return Response(EventSerializer(selectors.event_list_visible(user=request.user)[:200], many=True).data)


class EventDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=EventDetailSerializer)
    def get(self, request, pk):
        return Response(EventDetailSerializer(selectors.event_get_for_user(user=request.user, pk=pk)).data)


class EventRegisterApi(APIView):
    @extend_schema(request=RegisterSerializer, responses={201: RegisteredSerializer, **error_responses(409)})
    def post(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team_id = data.validated_data.get("team")
        team = team_get(pk=team_id) if team_id else None
        participation = services.event_register(event=event, user=request.user, team=team)
        return Response({"participation": participation.pk, "rank": participation.rank}, status=status.HTTP_201_CREATED)


class EventAnswerApi(APIView):
    throttle_scope = "answer"

    @extend_schema(request=EventAnswerSerializer, responses={200: EventAnswerResultSerializer, **error_responses(409)})
    def post(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        data = EventAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.event_submit_answer(
            event=event,
            user=request.user,
            version_id=data.validated_data["scenario_version"],
            question_id=data.validated_data["question_id"],
            answer=data.validated_data["answer"],
        )
        return Response(result)


class EventScoreboardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        return Response(selectors.scoreboard(event=event, admin=getattr(request.user, "is_platform_admin", False)))
