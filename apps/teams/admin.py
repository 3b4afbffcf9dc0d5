"""The teams admin: look at teams, members and requests; changes go through the team pages' services."""

from django.contrib import admin

from apps.teams.models import Team, TeamBadge, TeamJoinRequest, TeamMember
from rangex.core.admin import ApplicationErrorAdminMixin, ReadOnlyAdmin


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ["user", "role", "joined_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(ApplicationErrorAdminMixin, admin.ModelAdmin):
    list_display = ["name", "leader", "country", "max_members", "open_team", "registrations_open", "event_points"]
    search_fields = ["name", "leader__email"]
    readonly_fields = ["owner_user", "leader", "event_points", "created_at", "updated_at"]
    inlines = [TeamMemberInline]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        from apps.teams.services import team_update_profile

        team_update_profile(team=obj, actor=request.user, **{k: form.cleaned_data[k] for k in form.changed_data})

    def delete_model(self, request, obj):
        from apps.teams.services import team_delete

        team_delete(team=obj, actor=request.user)


# Join requests and team badges change only through the teams and events services (audited).
@admin.register(TeamJoinRequest)
class TeamJoinRequestAdmin(ReadOnlyAdmin):
    list_display = ["team", "user", "status", "created_at", "decided_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in TeamJoinRequest._meta.fields]


@admin.register(TeamBadge)
class TeamBadgeAdmin(ReadOnlyAdmin):
    list_display = ["team", "badge", "earned_at"]
    list_select_related = ["team", "badge"]
