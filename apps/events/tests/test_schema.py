"""The seed tables of events and teams exist with every column of the spec."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

SPEC_COLUMNS = {
    "event": {
        "id",
        "name",
        "description",
        "start_date",
        "end_date",
        "timezone",
        "max_participants",
        "format",
        "participating_team_ids",
        "registration_required",
        "created_by_user_id",
        "cover_image_url",
        "created_at",
        "updated_at",
    },
    "event_scenario": {"id", "event_id", "scenario_version_id", "sort_order"},
    "event_registration": {"id", "event_id", "user_id", "created_at"},
    "event_participation": {
        "id",
        "event_id",
        "user_id",
        "team_id",
        "participant_type",
        "total_points",
        "challenges_completed",
        "rank",
        "registered_at",
    },
    "event_sessions": {
        "id",
        "event_id",
        "participation_id",
        "scenario_version_id",
        "user_id",
        "mode",
        "status",
        "score",
        "progress_pct",
        "started_at",
        "finished_at",
        "answers",
        "answers_hash",
    },
    "team": {
        "id",
        "name",
        "description",
        "motto",
        "country",
        "avatar_url",
        "owner_user_id",
        "leader_id",
        "max_members",
        "open_team",
        "registrations_open",
        "event_points",
        "created_at",
        "updated_at",
    },
    "team_member": {"id", "team_id", "user_id", "role"},
    "team_join_request": {"id", "team_id", "user_id", "status", "message", "created_at"},
    "team_badge": {"id", "team_id", "badge_id", "earned_at"},
}


@pytest.mark.parametrize("table", sorted(SPEC_COLUMNS))
def test_table_has_every_spec_column(table):
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
    assert SPEC_COLUMNS[table] <= columns
