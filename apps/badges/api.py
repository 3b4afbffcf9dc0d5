"""Badges under /api/v1/: the definitions, one badge, and a user's earned badges (privacy respected)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.badges import selectors


class BadgeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    criteria = serializers.CharField()
    icon = serializers.SerializerMethodField()
    earned_count = serializers.IntegerField(required=False)

    def get_icon(self, badge) -> str | None:
        return badge.icon.url if badge.icon else None


class UserBadgeSerializer(serializers.Serializer):
    badge = BadgeSerializer()
    earned_at = serializers.DateTimeField()


class BadgeListApi(APIView):
    """The badge definitions: public, as the /badges/ page is."""

    permission_classes = [AllowAny]

    @extend_schema(responses=BadgeSerializer(many=True))
    def get(self, request):
        return Response(BadgeSerializer(selectors.badge_list(), many=True).data)


class BadgeDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=BadgeSerializer)
    def get(self, request, pk):
        return Response(BadgeSerializer(selectors.badge_get(pk=pk)).data)


class UserBadgesApi(APIView):
    @extend_schema(responses=UserBadgeSerializer(many=True))
    def get(self, request, pk):
        user = selectors.profile_user_get(viewer=request.user, pk=pk)
        awards = selectors.user_badges(user=user)
        return Response(UserBadgeSerializer(awards, many=True).data)


class MyBadgesApi(APIView):
    """The caller's own earned badges (``/api/v1/me/badges/``), whatever their profile privacy."""

    @extend_schema(responses=UserBadgeSerializer(many=True))
    def get(self, request):
        return Response(UserBadgeSerializer(selectors.user_badges(user=request.user), many=True).data)
