"""Team endpoints under /api/v1/teams/: create, join, approve/decline, leave."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.teams import selectors, services
from rangex.core.schema import error_responses


class TeamSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    motto = serializers.CharField()
    country = serializers.CharField()
    avatar_url = serializers.CharField()
    leader = serializers.UUIDField(source="leader_id")
    max_members = serializers.IntegerField()
    open_team = serializers.BooleanField()
    registrations_open = serializers.BooleanField()
    event_points = serializers.SerializerMethodField()

    def get_event_points(self, obj) -> int:
        # During a scoreboard freeze the public standing leaves out what the team scored since.
        points = self.context.get("points")
        return points.get(obj.pk, obj.event_points) if points else selectors.team_public_points(team=obj)


class TeamCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    description = serializers.CharField(required=False, allow_blank=True)
    motto = serializers.CharField(required=False, allow_blank=True, max_length=200)
    country = serializers.CharField(required=False, allow_blank=True, max_length=2)
    max_members = serializers.IntegerField(required=False, min_value=1, max_value=50)
    open_team = serializers.BooleanField(required=False)


class MessageSerializer(serializers.Serializer):
    message = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class JoinRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.UUIDField(source="team_id")
    user = serializers.UUIDField(source="user_id")
    status = serializers.CharField()
    message = serializers.CharField()
    response_message = serializers.CharField()


class TeamListApi(APIView):
    def get_permissions(self):
        return [AllowAny()] if self.request.method == "GET" else super().get_permissions()

    @extend_schema(responses=TeamSerializer(many=True))
    def get(self, request):
        teams = list(selectors.team_list()[:200])
        points = selectors.teams_public_points(teams=teams)
        return Response(TeamSerializer(teams, many=True, context={"points": points}).data)

    @extend_schema(request=TeamCreateSerializer, responses={201: TeamSerializer, **error_responses(409)})
    def post(self, request):
        data = TeamCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, **data.validated_data)
        return Response(TeamSerializer(team).data, status=status.HTTP_201_CREATED)


class TeamJoinApi(APIView):
    @extend_schema(request=MessageSerializer, responses={201: JoinRequestSerializer, **error_responses(409)})
    def post(self, request, pk):
        data = MessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        join = services.team_join(
            team=selectors.team_get(pk=pk), user=request.user, message=data.validated_data["message"]
        )
        return Response(JoinRequestSerializer(join).data, status=status.HTTP_201_CREATED)


class TeamLeaveApi(APIView):
    @extend_schema(request=None, responses={204: None, **error_responses(409)})
    def post(self, request, pk):
        services.team_leave(team=selectors.team_get(pk=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationCreateSerializer(serializers.Serializer):
    hours = serializers.IntegerField(required=False, default=72)
    max_uses = serializers.IntegerField(required=False, allow_null=True, default=None)


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()


class TeamInvitationApi(APIView):
    @extend_schema(request=InvitationCreateSerializer, responses={201: InvitationSerializer})
    def post(self, request, pk):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.team_invitation_create(
            team=selectors.team_get(pk=pk), actor=request.user, **data.validated_data
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class InvitationAcceptedSerializer(serializers.Serializer):
    team = serializers.UUIDField(source="team_id")


class InvitationAcceptApi(APIView):
    @extend_schema(request=None, responses={201: InvitationAcceptedSerializer})
    def post(self, request, code):
        member = services.team_invitation_accept(code=code, user=request.user)
        return Response(InvitationAcceptedSerializer(member).data, status=status.HTTP_201_CREATED)


class JoinRequestDecideApi(APIView):
    decision = "approve"

    @extend_schema(request=MessageSerializer, responses={200: JoinRequestSerializer, **error_responses(409)})
    def post(self, request, request_id):
        data = MessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        join = selectors.join_request_get_for_user(user=request.user, pk=request_id)
        join = services.team_join_request_decide(
            request=join, actor=request.user, decision=self.decision, message=data.validated_data["message"]
        )
        return Response(JoinRequestSerializer(join).data)
