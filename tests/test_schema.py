"""Every table of the seed schema exists under its seed name (spec/README.md)."""

import pytest
from django.db import connection

SEED_TABLES = {
    "accounts": ["user", "creator_preferences", "notification"],
    "ops": ["system_setting", "system_settings", "audit_log", "job"],
    "scenarios": [
        "scenario",
        "scenario_version",
        "scenario_limit",
        "scenario_ratings",
        "machine",
        "tool",
        "asset",
        "scenario_asset",
        "asset_scenario_version",
        "network_pivot_points",
        "user_favorites",
        "scenario_version_test_runs",
        "scenario_version_admin_test",
        "admin_test_validation",
        "docker_tests",
    ],
    "environments": [
        "environment_session",
        "environment_machine",
        "environment_image",
        "deployment_environment",
        "session_network_topology",
        "session_security_groups",
        "gui_sessions",
        "test_deployment",
    ],
    "images": [
        "docker_image",
        "image_variants",
        "docker_credential",
        "platform_image",
        "registry_credential",
        "image_pipeline_stages",
    ],
}


@pytest.mark.django_db
@pytest.mark.parametrize("app,table", [(app, t) for app, tables in SEED_TABLES.items() for t in tables])
def test_seed_table_exists(app, table):
    assert table in connection.introspection.table_names()


@pytest.mark.django_db
def test_user_table_has_every_seed_column():
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "user")}
    expected = {
        "id",
        "email",
        "password_hash",
        "display_name",
        "full_name",
        "organization",
        "bio",
        "avatar_url",
        "role_solver",
        "role_creator",
        "role_admin",
        "twofa_enabled",
        "twofa_secret",
        "notification_preferences",
        "appearance_settings",
        "budget_limit_rm",
        "budget_spent_rm",
        "is_active",
        "email_verified_at",
        "last_login_at",
        "last_login_ip",
        "last_ip",
        "password_updated_at",
        "failed_login_attempts",
        "locked_until",
        "created_at",
        "updated_at",
    }
    assert expected <= columns


@pytest.mark.django_db
def test_system_settings_has_every_seed_column():
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, "system_settings")}
    expected = {
        "maintenance_mode",
        "maintenance_message",
        "max_concurrent_users",
        "max_total_users",
        "allow_new_registrations",
        "max_sessions_per_user",
        "max_sessions_per_hour",
        "max_sessions_per_day",
        "idle_timeout_minutes",
        "max_session_duration_minutes",
        "max_total_containers",
        "max_accessible_scenarios",
        "allow_all_scenarios",
        "budget_hard_cap_usd",
        "budget_alert_percentage",
        "auto_maintenance_on_budget_cap",
        "max_storage_per_user_bytes",
        "max_total_storage_bytes",
        "storage_driver",
        "minio_endpoint",
        "minio_port",
        "minio_use_ssl",
        "minio_access_key",
        "minio_secret_key",
        "minio_bucket",
        "aws_region",
        "aws_ecs_cluster_name",
        "aws_ecs_subnet_ids",
        "aws_ecs_security_group_ids",
        "aws_ecr_registry",
        "use_local_docker",
        "docker_max_containers",
        "docker_max_cpus_per_container",
        "docker_max_memory_mb_per_container",
        "docker_test_timeout_minutes",
        "docker_enable_pull_from_hub",
        "enable_prometheus_metrics",
        "enable_request_logging",
        "log_retention_days",
        "send_error_notifications",
        "admin_emails",
        "slack_webhook_url",
        "updated_at",
    }
    assert expected <= columns


def _columns(table):
    with connection.cursor() as cursor:
        return {c.name for c in connection.introspection.get_table_description(cursor, table)}


@pytest.mark.django_db
def test_scenario_version_has_every_seed_column():
    expected = {
        "id",
        "scenario_id",
        "version_number",
        "status",
        "title",
        "short_description",
        "difficulty",
        "category",
        "tags",
        "cover_image_url",
        "estimated_minutes",
        "scenario_type",
        "creator_name",
        "requires_machines",
        "code_of_ethics",
        "learning_outcomes",
        "validation_mode",
        "scoring_mode",
        "hint_mode",
        "mission_text",
        "metadata",
        "solution_writeup",
        "questions",
        "hints",
        "submitted_at",
        "approved_at",
        "promoted_at",
        "approved_by_user_id",
        "rejected_at",
        "reject_reason",
        "is_archived",
        "last_admin_test_id",
        "network_topology",
        "docker_compose_path",
        "ecr_images_pushed",
        "fargate_task_definition",
        "build_status",
        "published_at",
        "created_at",
        "updated_at",
    }
    assert expected <= _columns("scenario_version")


@pytest.mark.django_db
def test_machine_has_every_seed_column():
    expected = {
        "id",
        "scenario_version_id",
        "image_variant_id",
        "registry_credential_id",
        "name",
        "role",
        "image_source_type",
        "image_ref",
        "network_group",
        "resource_profile",
        "allow_solver_entry",
        "is_pivot_host",
        "cpu_cores",
        "memory_mb",
        "disk_gb",
        "exposed_ports",
        "ssh_enabled",
        "rdp_enabled",
        "web_enabled",
        "environment_vars",
        "entrypoints",
        "ecr_uri",
        "ecr_digest",
        "task_definition_arn",
        "ssh_username",
        "ssh_password",
        "network_egress_policy",
        "created_at",
        "updated_at",
    }
    assert expected <= _columns("machine")


@pytest.mark.django_db
def test_creator_preferences_has_variant_foreign_keys():
    assert {
        "preferred_attacker_variant_id",
        "preferred_victim_variant_id",
        "preferred_service_variant_id",
    } <= _columns("creator_preferences")


@pytest.mark.django_db
def test_environment_session_has_every_seed_column():
    expected = {
        "id",
        "user_id",
        "scenario_version_id",
        "aws_task_arn",
        "event_id",
        "team_id",
        "status",
        "started_at",
        "expires_at",
        "stopped_at",
        "ended_at",
        "reason_stopped",
        "gateway_ip",
        "gateway_session_token",
        "env_profile",
        "cost_accumulated_rm",
        "soft_limit_warned",
        "answers",
        "score",
        "client_ip",
        "client_user_agent",
        "last_activity_at",
        "paused_remaining_seconds",
        "is_test",
        "version",
        "runtime_backend",
        "created_at",
        "updated_at",
    }
    assert expected <= _columns("environment_session")
