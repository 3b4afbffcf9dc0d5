"""Account endpoints: who am I, notifications, personal tokens."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from rangex.core.notifications import notification_mark_read


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    role_solver = serializers.BooleanField()
    role_creator = serializers.BooleanField()
    role_admin = serializers.BooleanField()
    twofa_enabled = serializers.BooleanField()
    email_verified_at = serializers.DateTimeField(allow_null=True)
    budget_limit_rm = serializers.DecimalField(max_digits=10, decimal_places=2)
    budget_spent_rm = serializers.DecimalField(max_digits=10, decimal_places=2)


class MeApi(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class NotificationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    link = serializers.CharField()
    is_read = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class NotificationListApi(APIView):
    @extend_schema(responses=NotificationSerializer(many=True))
    def get(self, request):
        qs = selectors.notification_list(user=request.user)[:100]
        return Response(NotificationSerializer(qs, many=True).data)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.UUIDField(), required=False)


class NotificationMarkReadApi(APIView):
    @extend_schema(request=MarkReadSerializer, responses={200: None})
    def post(self, request):
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changed = notification_mark_read(user=request.user, notification_ids=data.validated_data.get("ids"))
        return Response({"marked": changed})


class TokenSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    label = serializers.CharField(max_length=100)
    expires_in_days = serializers.IntegerField(min_value=1, required=False, allow_null=True, write_only=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: never expires.")
    last_used_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: never used.")
    revoked_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null: not revoked.")
    created_at = serializers.DateTimeField(read_only=True)


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret, shown this once: `Bearer <token>`.")


class TokenListApi(APIView):
    @extend_schema(responses=TokenSerializer(many=True))
    def get(self, request):
        return Response(TokenSerializer(selectors.api_token_list(user=request.user), many=True).data)

    @extend_schema(request=TokenSerializer, responses={201: TokenCreatedSerializer})
    def post(self, request):
        data = TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = services.api_token_create(
            user=request.user,
            label=data.validated_data["label"],
            expires_in_days=data.validated_data.get("expires_in_days"),
        )
        body = TokenSerializer(token).data | {"token": raw}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    @extend_schema(request=None, responses=TokenSerializer)
    def post(self, request, pk):
        token = selectors.api_token_get_for_user(user=request.user, pk=pk)
        token = services.api_token_revoke(token=token, actor=request.user)
        return Response(TokenSerializer(token).data)
