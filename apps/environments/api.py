"""Session endpoints under /api/v1/sessions/: start, status, answers, hints, pause, resume, extend, stop."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.environments import selectors, services
from apps.scenarios.models import ScenarioVersion, VersionStatus
from rangex.core.errors import NotFound
from rangex.core.http import client_ip, user_agent
from rangex.core.schema import error_responses


class MachineSerializer(serializers.Serializer):
    name = serializers.CharField(source="machine_name")
    role = serializers.CharField()
    status = serializers.CharField()
    allow_solver_entry = serializers.BooleanField()


class SessionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    scenario_version = serializers.UUIDField(source="scenario_version_id")
    started_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    paused_remaining_seconds = serializers.IntegerField(allow_null=True)
    progress = serializers.IntegerField()
    progress_message = serializers.CharField()
    reason_stopped = serializers.CharField(allow_null=True)
    score = serializers.IntegerField()
    answers = serializers.JSONField()
    completed_at = serializers.DateTimeField(allow_null=True)
    machines = MachineSerializer(many=True)
    solver_writeup = serializers.CharField(help_text="Markdown write-up; empty until the session has ended.")


class StartSerializer(serializers.Serializer):
    scenario_version = serializers.UUIDField()


class SessionListApi(APIView):
    throttle_scope = "session_start"

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request):
        sessions = selectors.env_session_list_for_user(user=request.user)[:100]
        return Response(SessionSerializer(sessions, many=True).data)

    @extend_schema(request=StartSerializer, responses={202: SessionSerializer, **error_responses(404, 409)})
    def post(self, request):
        data = StartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = ScenarioVersion.objects.filter(
            pk=data.validated_data["scenario_version"], status=VersionStatus.PUBLISHED
        ).first()
        if version is None:
            raise NotFound(_("No such published scenario version."))
        session = services.env_session_start(
            user=request.user, version=version, client_ip=client_ip(request), user_agent=user_agent(request)
        )
        session = selectors.env_session_get_for_user(user=request.user, pk=session.pk)
        return Response(SessionSerializer(session).data, status=status.HTTP_202_ACCEPTED)


class SessionDetailApi(APIView):
    @extend_schema(responses=SessionSerializer)
    def get(self, request, pk):
        session = selectors.env_session_get_for_user(user=request.user, pk=pk)
        return Response(SessionSerializer(session).data)


class AnswerSerializer(serializers.Serializer):
    question_id = serializers.CharField(max_length=64)
    answer = serializers.JSONField()


class AnswerResultSerializer(serializers.Serializer):
    question_id = serializers.CharField()
    state = serializers.DictField(help_text="The question's state: correct, attempts, points, hints taken.")
    message = serializers.CharField()
    score = serializers.IntegerField()
    completed = serializers.BooleanField()


class AnswerApi(APIView):
    throttle_scope = "answer"

    @extend_schema(request=AnswerSerializer, responses={200: AnswerResultSerializer, **error_responses(409)})
    def post(self, request, pk):
        session = selectors.env_session_get_for_user(user=request.user, pk=pk)
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.env_session_submit_answer(
            session=session,
            actor=request.user,
            question_id=data.validated_data["question_id"],
            answer=data.validated_data["answer"],
        )
        return Response(result)


class HintSerializer(serializers.Serializer):
    hint_id = serializers.CharField(max_length=64)


class SessionHintResultSerializer(serializers.Serializer):
    hint_id = serializers.CharField()
    text = serializers.CharField()
    cost = serializers.IntegerField()
    state = serializers.DictField(help_text="The question's state after taking the hint.")


class HintApi(APIView):
    throttle_scope = "hint"

    @extend_schema(request=HintSerializer, responses={200: SessionHintResultSerializer, **error_responses(409)})
    def post(self, request, pk):
        session = selectors.env_session_get_for_user(user=request.user, pk=pk)
        data = HintSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.env_session_take_hint(session=session, actor=request.user, hint_id=data.validated_data["hint_id"])
        )


class ExtendSerializer(serializers.Serializer):
    minutes = serializers.IntegerField(min_value=1, max_value=240, default=services.EXTEND_MINUTES)


def _action_view(service, *, with_minutes: bool = False):
    class ActionApi(APIView):
        @extend_schema(
            request=ExtendSerializer if with_minutes else None,
            responses={200: SessionSerializer, **error_responses(409)},
        )
        def post(self, request, pk):
            session = selectors.env_session_get_for_user(user=request.user, pk=pk)
            kwargs = {}
            if with_minutes:
                data = ExtendSerializer(data=request.data)
                data.is_valid(raise_exception=True)
                kwargs["minutes"] = data.validated_data["minutes"]
            service(session=session, actor=request.user, **kwargs)
            return Response(SessionSerializer(selectors.env_session_get_for_user(user=request.user, pk=pk)).data)

    ActionApi.__name__ = f"Session{service.__name__.rsplit('_', 1)[-1].title()}Api"
    return ActionApi


SessionPauseApi = _action_view(services.env_session_pause)
SessionResumeApi = _action_view(services.env_session_resume)
SessionExtendApi = _action_view(services.env_session_extend, with_minutes=True)
SessionStopApi = _action_view(services.env_session_stop)


class ReviewSerializer(serializers.Serializer):
    question_id = serializers.CharField(max_length=64)
    accepted = serializers.BooleanField()
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReviewResultSerializer(serializers.Serializer):
    question_id = serializers.CharField()
    state = serializers.DictField(help_text="The question's state after the decision.")
    score = serializers.IntegerField()


class PendingReviewSerializer(serializers.Serializer):
    session_id = serializers.UUIDField(source="session.pk")
    scenario = serializers.CharField(source="session.scenario_version.title")
    solver = serializers.CharField(source="session.user.public_name")
    question_id = serializers.CharField(source="question.id")
    prompt = serializers.CharField(source="question.prompt")
    answer = serializers.CharField()


class PendingReviewListApi(APIView):
    """The free-text answers waiting for the caller's decision (creators: their scenarios; admins: all)."""

    @extend_schema(responses=PendingReviewSerializer(many=True))
    def get(self, request):
        pending = selectors.env_answers_pending_review(user=request.user)
        return Response(PendingReviewSerializer(pending, many=True).data)


class ReviewApi(APIView):
    """Accept or reject a free-text answer waiting in a session."""

    @extend_schema(request=ReviewSerializer, responses={200: ReviewResultSerializer, **error_responses(409)})
    def post(self, request, pk):
        session = selectors.env_session_get_for_reviewer(user=request.user, pk=pk)
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.env_answer_review(session=session, actor=request.user, **data.validated_data)
        return Response(ReviewResultSerializer(result).data)
