"""The kernel's tables, moved here from ops and accounts without touching the database.

``system_settings``, ``system_setting``, ``audit_log`` and ``job`` were created by ops' 0001/0002,
``notification`` by accounts' 0001. This migration only tells Django's state that ``core`` owns them
now (ops 0005 and accounts 0003 drop them from their own state); the tables, their rows, indexes and
constraints stay exactly as they are. Content types are renamed so permissions granted on the old
models carry over.
"""

import django.core.serializers.json
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import rangex.core.crypto
import uuid
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models

MOVED = {"ops": ["systemsettings", "systemsetting", "auditlog", "job"], "accounts": ["notification"]}


def rename_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_label, models_ in MOVED.items():
        for model in models_:
            if not ContentType.objects.using(db).filter(app_label="core", model=model).exists():
                ContentType.objects.using(db).filter(app_label=old_label, model=model).update(app_label="core")


def unrename_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_label, models_ in MOVED.items():
        ContentType.objects.using(db).filter(app_label="core", model__in=models_).update(app_label=old_label)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("ops", "0004_host_isolation_check"),
        ("accounts", "0002_creator_preferred_variants"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='SystemSetting',
                    fields=[
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('key', models.CharField(max_length=191, primary_key=True, serialize=False)),
                        ('value', models.TextField(blank=True)),
                    ],
                    options={
                        'db_table': 'system_setting',
                        'ordering': ['key'],
                    },
                ),
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('type', models.CharField(db_index=True, max_length=64)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], db_index=True, default='queued', max_length=16)),
                        ('payload', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('progress', models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(100)])),
                        ('progress_message', models.CharField(blank=True, max_length=255)),
                        ('error', models.TextField(blank=True, null=True)),
                        ('result', models.JSONField(blank=True, encoder=django.core.serializers.json.DjangoJSONEncoder, null=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='jobs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'job',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='SystemSettings',
                    fields=[
                        ('id', models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                        ('maintenance_mode', models.BooleanField(default=False)),
                        ('maintenance_message', models.TextField(blank=True, default='RangeX is down for maintenance. Please come back soon.')),
                        ('max_concurrent_users', models.PositiveIntegerField(default=500, help_text='0 means no limit.')),
                        ('max_total_users', models.PositiveIntegerField(default=0, help_text='0 means no limit.')),
                        ('allow_new_registrations', models.BooleanField(default=True)),
                        ('max_sessions_per_user', models.PositiveIntegerField(default=1, help_text='Concurrent live sessions per user.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('max_sessions_per_hour', models.PositiveIntegerField(default=10, validators=[django.core.validators.MinValueValidator(1)])),
                        ('max_sessions_per_day', models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1)])),
                        ('idle_timeout_minutes', models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1)])),
                        ('max_session_duration_minutes', models.PositiveIntegerField(default=240, validators=[django.core.validators.MinValueValidator(5)])),
                        ('max_total_containers', models.PositiveIntegerField(default=200, validators=[django.core.validators.MinValueValidator(1)])),
                        ('max_accessible_scenarios', models.PositiveIntegerField(default=0, help_text='0 means no limit.')),
                        ('allow_all_scenarios', models.BooleanField(default=True)),
                        ('budget_hard_cap_usd', models.DecimalField(decimal_places=2, default=Decimal('0'), help_text='0 means no cap.', max_digits=12)),
                        ('budget_alert_percentage', models.PositiveSmallIntegerField(default=80, validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(100)])),
                        ('auto_maintenance_on_budget_cap', models.BooleanField(default=False)),
                        ('max_storage_per_user_bytes', models.BigIntegerField(default=524288000, validators=[django.core.validators.MinValueValidator(0)])),
                        ('max_total_storage_bytes', models.BigIntegerField(default=53687091200, validators=[django.core.validators.MinValueValidator(0)])),
                        ('storage_driver', models.CharField(choices=[('local', 'Local files'), ('minio', 'MinIO / S3-compatible'), ('s3', 'Amazon S3')], default='local', max_length=16)),
                        ('minio_endpoint', models.CharField(blank=True, max_length=255)),
                        ('minio_port', models.PositiveIntegerField(blank=True, null=True, validators=[django.core.validators.MaxValueValidator(65535)])),
                        ('minio_use_ssl', models.BooleanField(default=True)),
                        ('minio_access_key', rangex.core.crypto.EncryptedTextField(blank=True, default='')),
                        ('minio_secret_key', rangex.core.crypto.EncryptedTextField(blank=True, default='')),
                        ('minio_bucket', models.CharField(blank=True, max_length=63)),
                        ('aws_region', models.CharField(blank=True, max_length=32)),
                        ('aws_ecs_cluster_name', models.CharField(blank=True, max_length=255)),
                        ('aws_ecs_subnet_ids', models.TextField(blank=True, help_text='Comma-separated subnet ids.')),
                        ('aws_ecs_security_group_ids', models.TextField(blank=True, help_text='Comma-separated security group ids.')),
                        ('aws_ecr_registry', models.CharField(blank=True, max_length=255)),
                        ('use_local_docker', models.BooleanField(default=True)),
                        ('docker_max_containers', models.PositiveIntegerField(default=200, validators=[django.core.validators.MinValueValidator(1)])),
                        ('docker_max_cpus_per_container', models.DecimalField(decimal_places=2, default=Decimal('2.00'), max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal('0.1'))])),
                        ('docker_max_memory_mb_per_container', models.PositiveIntegerField(default=2048, validators=[django.core.validators.MinValueValidator(16)])),
                        ('docker_test_timeout_minutes', models.PositiveIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1)])),
                        ('docker_enable_pull_from_hub', models.BooleanField(default=False)),
                        ('enable_prometheus_metrics', models.BooleanField(default=False)),
                        ('enable_request_logging', models.BooleanField(default=False)),
                        ('log_retention_days', models.PositiveIntegerField(default=90, validators=[django.core.validators.MinValueValidator(1)])),
                        ('send_error_notifications', models.BooleanField(default=True)),
                        ('admin_emails', models.TextField(blank=True, help_text='Comma-separated addresses that receive alerts.')),
                        ('slack_webhook_url', rangex.core.crypto.EncryptedTextField(blank=True, default='')),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'verbose_name': 'system settings',
                        'verbose_name_plural': 'system settings',
                        'db_table': 'system_settings',
                        'constraints': [models.CheckConstraint(condition=models.Q(('id', 1)), name='system_settings_singleton')],
                    },
                ),
                migrations.CreateModel(
                    name='AuditLog',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('timestamp', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('action_type', models.CharField(db_index=True, max_length=100)),
                        ('target_type', models.CharField(blank=True, db_index=True, max_length=100)),
                        ('target_id', models.CharField(blank=True, db_index=True, max_length=64)),
                        ('target_repr', models.CharField(blank=True, max_length=255)),
                        ('details', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                        ('ip_address', models.CharField(blank=True, max_length=45, null=True)),
                        ('user_agent', models.CharField(blank=True, max_length=512, null=True)),
                        ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'audit_log',
                        'ordering': ['-timestamp'],
                        'indexes': [models.Index(fields=['target_type', 'target_id'], name='audit_log_target_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('title', models.CharField(max_length=200)),
                        ('body', models.TextField(blank=True)),
                        ('type', models.CharField(choices=[('system', 'Platform announcements'), ('security', 'Security of my account'), ('review', 'Scenario review decisions'), ('session', 'Lab sessions (expiry, idle stop)'), ('budget', 'Budget warnings'), ('team', 'Teams'), ('event', 'Events'), ('badge', 'Badges earned')], default='system', max_length=32)),
                        ('link', models.CharField(blank=True, max_length=500)),
                        ('is_read', models.BooleanField(default=False)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'notification',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['user', 'is_read', 'created_at'], name='notification_user_unread_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(rename_content_types, unrename_content_types),
    ]
