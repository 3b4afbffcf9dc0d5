"""One log format (text or JSON), with a request id from the request into tasks and sockets (issue 27)."""

import json
import logging
import os
import subprocess
import sys
from io import StringIO

import pytest
from celery import shared_task
from channels.generic.websocket import WebsocketConsumer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from rangex.core.context import reset_request_context, set_request_id
from rangex.core.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter
from rangex.core.request_ids import HEADER, WebSocketRequestIdMiddleware, task_publish_request_id
from rangex.core.system import maintenance_set, system_settings_update
from tests.asgi import application

logger = logging.getLogger("rangex.tests.logs")


def records_with(caplog, text):
    return [r for r in caplog.records if text in r.getMessage()]


def test_json_lines_carry_time_level_logger_message_request_id_and_no_secrets():
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    log = logging.getLogger("rangex.tests.json")
    log.addHandler(handler)
    token = set_request_id("req-123")
    try:
        log.warning("signed in with password=%s", "hunter2", extra={"session": "s-1"})
    finally:
        reset_request_context(token)
        log.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["level"] == "WARNING" and entry["logger"] == "rangex.tests.json"
    assert entry["request_id"] == "req-123" and entry["session"] == "s-1"
    assert "hunter2" not in stream.getvalue() and entry["time"].endswith("+00:00")


def test_json_lines_leave_out_structured_extras_where_task_arguments_travel():
    stream = StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("rangex.tests.json_extras")
    log.addHandler(handler)
    try:
        # As Celery's worker logs a received task: its arguments in a "data" extra.
        log.info("Task send_email received", extra={"data": {"args": ["https://x/reset/MQ/abc-secret/"]}, "n": 2})
    finally:
        log.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert "data" not in entry and "abc-secret" not in stream.getvalue() and entry["n"] == 2


def _log_a_line(log_format: str) -> subprocess.CompletedProcess:
    code = "import django, logging; django.setup(); logging.getLogger('rangex.x').warning('hello')"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "rangex.settings_test", "RANGEX_LOG_FORMAT": log_format}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_rangex_log_format_selects_json_or_text_and_refuses_anything_else():
    line = _log_a_line("json").stderr.strip().splitlines()[-1]
    assert json.loads(line)["message"] == "hello" and json.loads(line)["request_id"] == "-"
    text = _log_a_line("text").stderr.strip().splitlines()[-1]
    assert text.endswith("WARNING rangex.x [-] hello")
    refused = _log_a_line("xml")
    assert refused.returncode != 0 and "RANGEX_LOG_FORMAT is malformed" in refused.stderr


def test_celery_worker_logs_through_the_settings_not_its_own_format():
    assert settings.CELERY_WORKER_HIJACK_ROOT_LOGGER is False


@pytest.mark.django_db
def test_a_request_keeps_a_well_formed_request_id_and_logs_with_it(caplog):
    system_settings_update(actor=None, enable_request_logging=True)
    caplog.set_level(logging.INFO)
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.1")
    assert response["X-Request-ID"] == "lb-7f3a.1"
    [line] = records_with(caplog, "GET /healthz")
    assert line.request_id == "lb-7f3a.1"
    made_up = Client().get("/healthz", HTTP_X_REQUEST_ID="bad id with spaces\n")["X-Request-ID"]
    assert made_up != "bad id with spaces\n" and len(made_up) == 32


@pytest.mark.django_db
def test_maintenance_503s_are_logged_as_info_not_as_errors(caplog, admin_user):
    maintenance_set(actor=admin_user, enabled=True, message="Upgrading.")
    caplog.set_level(logging.INFO)
    response = Client().get("/", HTTP_X_REQUEST_ID="maint-1")
    assert response.status_code == 503
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    [line] = records_with(caplog, "maintenance: 503")
    assert line.levelno == logging.INFO and line.request_id == "maint-1"


@shared_task
def _log_from_a_task():
    logger.info("inside the task")


def test_a_task_sent_during_a_request_carries_its_request_id(caplog):
    caplog.set_level(logging.INFO)
    token = set_request_id("req-for-task")
    try:
        headers = {}
        task_publish_request_id(headers=headers)
    finally:
        reset_request_context(token)
    assert headers == {HEADER: "req-for-task"}
    # The worker side: the message's header becomes the request id of the task's log lines.
    _log_from_a_task.apply(headers=headers)
    [line] = records_with(caplog, "inside the task")
    assert line.request_id == "req-for-task"
    # A task without one (sent by beat) logs under its task id.
    _log_from_a_task.apply(task_id="beat-task-1")
    assert records_with(caplog, "inside the task")[-1].request_id == "beat-task-1"


class _LoggingConsumer(WebsocketConsumer):
    def connect(self):
        logger.info("socket connected")
        self.accept()

    def receive(self, text_data=None, bytes_data=None):
        logger.info("socket message %s", text_data)
        self.send(text_data=text_data)


# A sync consumer runs its handlers on a thread and closes old database connections around them.
@pytest.mark.django_db(transaction=True)
async def test_a_websocket_connection_logs_every_message_under_one_request_id(caplog):
    caplog.set_level(logging.INFO)
    socket = WebsocketCommunicator(
        WebSocketRequestIdMiddleware(_LoggingConsumer.as_asgi()), "/ws/x/", headers=[(b"x-request-id", b"ws-42")]
    )
    connected, _ = await socket.connect()
    assert connected
    await socket.send_to(text_data="ping")
    assert await socket.receive_from() == "ping"
    await socket.disconnect()
    assert {r.request_id for r in records_with(caplog, "socket ")} == {"ws-42"}
    assert len(records_with(caplog, "socket ")) == 2


def test_the_asgi_application_gives_websockets_a_request_id():
    assert isinstance(application.application_mapping["websocket"], WebSocketRequestIdMiddleware)
