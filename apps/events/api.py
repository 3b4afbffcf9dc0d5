"""Event endpoints under /api/v1/events/: list, detail, registration and withdrawal, answers, hints,
announcements and the scoreboard (frozen for everyone but admins during a freeze)."""

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
    max_team_size = serializers.IntegerField(allow_null=True)
    is_paused = serializers.BooleanField()

    def get_phase(self, obj) -> str:
        return obj.phase()


class ChallengeSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField(source="scenario_version_id")
    title = serializers.CharField(source="scenario_version.title")
    sort_order = serializers.IntegerField()


class DivisionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class EventDetailSerializer(EventSerializer):
    challenges = serializers.SerializerMethodField()
    divisions = serializers.SerializerMethodField()

    def get_challenges(self, obj) -> list:
        request = self.context.get("request")
        admin = bool(request and getattr(request.user, "is_platform_admin", False))
        return ChallengeSerializer(selectors.event_challenges(event=obj, released_only=not admin), many=True).data

    def get_divisions(self, obj) -> list:
        return DivisionSerializer(selectors.event_divisions(event=obj), many=True).data


class RegisterSerializer(serializers.Serializer):
    team = serializers.UUIDField(required=False, allow_null=True)
    division = serializers.IntegerField(required=False, allow_null=True)


class RegisterResultSerializer(serializers.Serializer):
    participation = serializers.IntegerField()
    rank = serializers.IntegerField(allow_null=True)


class HintRequestSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField()
    hint_id = serializers.CharField(max_length=64)


class EventHintResultSerializer(serializers.Serializer):
    hint_id = serializers.CharField()
    text = serializers.CharField()
    cost = serializers.IntegerField()


class AnnouncementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    body = serializers.CharField()
    created_at = serializers.DateTimeField()


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
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        return Response(EventDetailSerializer(event, context={"request": request}).data)


class EventRegisterApi(APIView):
    @extend_schema(request=RegisterSerializer, responses={201: RegisterResultSerializer, **error_responses(409)})
    def post(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team_id = data.validated_data.get("team")
        team = team_get(pk=team_id) if team_id else None
        participation = services.event_register(
            event=event, user=request.user, team=team, division=data.validated_data.get("division")
        )
        standing = selectors.standing_of(event=event, participation=participation)
        return Response({"participation": participation.pk, "rank": standing["rank"]}, status=status.HTTP_201_CREATED)


class EventWithdrawApi(APIView):
    @extend_schema(request=None, responses={204: None, **error_responses(409)})
    def post(self, request, pk):
        services.event_withdraw(event=selectors.event_get_for_user(user=request.user, pk=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventHintApi(APIView):
    @extend_schema(request=HintRequestSerializer, responses=EventHintResultSerializer)
    def post(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        data = HintRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hint = services.event_take_hint(
            event=event,
            user=request.user,
            version_id=data.validated_data["scenario_version"],
            hint_id=data.validated_data["hint_id"],
        )
        return Response(EventHintResultSerializer(hint).data)


class EventAnnouncementsApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=AnnouncementSerializer(many=True))
    def get(self, request, pk):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        return Response(AnnouncementSerializer(selectors.event_announcements(event=event, limit=200), many=True).data)


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
        division = selectors.event_division_get(event=event, raw=request.query_params.get("division"))
        division_id = division.pk if division else None
        admin = getattr(request.user, "is_platform_admin", False)
        return Response(selectors.scoreboard(event=event, admin=admin, division_id=division_id))
