"""Running a version's validation rules in a running session, through ``Runtime.run_command``.

Every rule is one command in one machine (as the rule's user, with the rule's timeout), so any
backend that runs commands runs rules, the in-memory FakeRuntime included. What each kind checks is
written in ``apps.scenarios.testing``. A rule's result is a plain dict (kept in the test run's
``test_results``): kind, machine, passed, the reason in human words, the exit code and the tail of
the output.
"""

from __future__ import annotations

import re
import time
from typing import Any

from apps.environments.launch import is_dynamic_flag, session_flag
from apps.runtime import RuntimeFailure
from apps.scenarios import grading
from apps.scenarios.models import AdminTestValidation
from rangex.core.errors import ApplicationError

CheckType = AdminTestValidation.CheckType
OUTPUT_TAIL = 2000
NO_TOOL = 125  # what the probe scripts exit with when the machine has no tool to probe with

# TCP connect to $1:$2 within $3 seconds with whatever the machine has: nc, bash, python3.
REACH_SCRIPT = r"""
h=$1 p=$2 t=$3
if command -v nc >/dev/null 2>&1; then
  if nc -h 2>&1 | grep -q -- '-z'; then nc -z -w "$t" "$h" "$p" </dev/null; exit $?; fi
  nc -w "$t" "$h" "$p" </dev/null >/dev/null; exit $?
fi
if command -v bash >/dev/null 2>&1; then timeout "$t" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$p"; exit $?; fi
if command -v python3 >/dev/null 2>&1; then
  python3 -c 'import socket,sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), float(sys.argv[3]))' \
    "$h" "$p" "$t"; exit $?
fi
echo "no nc, bash or python3 in this machine to test a connection with"; exit 125
"""

# GET $1 within $2 seconds; print "HTTP-STATUS:<code>" on the first line, then the body.
HTTP_SCRIPT = r"""
u=$1 t=$2
if command -v curl >/dev/null 2>&1; then
  body=$(mktemp); code=$(curl -s -o "$body" -w '%{http_code}' -m "$t" "$u"); rc=$?
  echo "HTTP-STATUS:$code"; cat "$body"; rm -f "$body"; [ "$code" = 000 ] && exit 7; exit $rc
fi
if command -v python3 >/dev/null 2>&1; then
  python3 - "$u" "$t" <<'PY'
import sys, urllib.error, urllib.request
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2]))
    code, body = r.status, r.read()
except urllib.error.HTTPError as e:
    code, body = e.code, e.read()
print(f"HTTP-STATUS:{code}"); sys.stdout.flush(); sys.stdout.buffer.write(body)
PY
  exit $?
fi
if command -v wget >/dev/null 2>&1; then
  out=$(timeout "$t" wget -q -S -O - "$u" 2>&1); rc=$?
  code=$(printf '%s\n' "$out" | sed -n 's/^ *HTTP\/[0-9.]* \([0-9][0-9][0-9]\).*/\1/p' | tail -n 1)
  echo "HTTP-STATUS:${code:-000}"; printf '%s\n' "$out"; exit $rc
fi
echo "no curl, python3 or wget in this machine to make an HTTP request with"; exit 125
"""

FILE_SCRIPT = '[ -e "$1" ] || { echo "$1 does not exist"; exit 3; }; [ -f "$1" ] && cat -- "$1"; exit 0'


def _tail(output: bytes) -> str:
    return output.decode("utf-8", "replace")[-OUTPUT_TAIL:]


def _found(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.MULTILINE) is not None


def rule_label(rule: AdminTestValidation) -> str:
    kind = rule.check_type
    if kind == CheckType.REACHABLE:
        what = "reachable" if rule.expect_reachable else "NOT reachable"
        return f"{rule.target_machine}:{rule.port} {what} from {rule.machine_name}"
    if kind == CheckType.HTTP:
        return f"GET {rule.check_target} from {rule.machine_name}"
    if kind == CheckType.FILE:
        return f"{rule.check_target} in {rule.machine_name}"
    if kind == CheckType.SOLUTION:
        return f"solution of {rule.question_id} in {rule.machine_name} as {rule.run_as}"
    return f"command in {rule.machine_name} as {rule.run_as}"


def run_rule(*, runtime, session, rule: AdminTestValidation) -> dict[str, Any]:
    """Run one rule in ``session``'s machines; return its result (never raises for a failing rule)."""
    started = time.monotonic()
    result: dict[str, Any] = {
        "rule_id": rule.pk,
        "kind": rule.check_type,
        "label": rule_label(rule),
        "machine": rule.machine_name,
        "passed": False,
        "reason": "",
        "exit_code": None,
        "output_tail": "",
    }
    try:
        passed, reason, code, output = _check(runtime, session, rule)
    except RuntimeFailure as exc:
        passed, reason, code, output = False, f"The machine could not run the rule: {exc}", None, ""
    result.update(passed=passed, reason=reason, exit_code=code, output_tail=output[-OUTPUT_TAIL:])
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def _run(runtime, session, rule, argv: list[str]):
    return runtime.run_command(
        str(session.pk), rule.machine_name, argv, user=rule.run_as or "root", timeout=float(rule.timeout_seconds)
    )


def _timed_out(rule) -> tuple[bool, str, int, str]:
    return False, f"Timed out after {rule.timeout_seconds} s.", -1, ""


def _check(runtime, session, rule: AdminTestValidation) -> tuple[bool, str, int | None, str]:
    kind = rule.check_type
    if kind == CheckType.REACHABLE:
        # The probe gives up a little before the rule's own timeout, so "not reachable" is an answer.
        wait = str(max(1, rule.timeout_seconds - 1))
        done = _run(
            runtime, session, rule, ["/bin/sh", "-c", REACH_SCRIPT, "sh", rule.target_machine, str(rule.port), wait]
        )
        output = _tail(done.output)
        if done.exit_code == NO_TOOL:
            return False, output.strip(), done.exit_code, output
        reached = done.exit_code == 0
        if reached == rule.expect_reachable:
            return True, "Reachable, as expected." if reached else "Not reachable, as expected.", done.exit_code, output
        if reached:
            return False, f"{rule.target_machine}:{rule.port} is reachable but must not be.", done.exit_code, output
        return False, f"{rule.target_machine}:{rule.port} is not reachable.", done.exit_code, output
    if kind == CheckType.HTTP:
        done = _run(
            runtime, session, rule, ["/bin/sh", "-c", HTTP_SCRIPT, "sh", rule.check_target, str(rule.timeout_seconds)]
        )
        if done.timed_out:
            return _timed_out(rule)
        text = _tail(done.output) if len(done.output) <= OUTPUT_TAIL else done.output.decode("utf-8", "replace")
        first, _, body = text.partition("\n")
        if done.exit_code == NO_TOOL or not first.startswith("HTTP-STATUS:"):
            return False, text.strip()[:300] or "The request failed.", done.exit_code, text[-OUTPUT_TAIL:]
        status = first.removeprefix("HTTP-STATUS:").strip()
        if status in ("", "000"):
            return False, "The request got no answer.", done.exit_code, text[-OUTPUT_TAIL:]
        if rule.expected_status is not None and status != str(rule.expected_status):
            return False, f"The status was {status}, not {rule.expected_status}.", done.exit_code, text[-OUTPUT_TAIL:]
        if rule.pattern and not _found(rule.pattern, body):
            return False, f"The body does not contain {rule.pattern!r}.", done.exit_code, text[-OUTPUT_TAIL:]
        return True, f"Status {status}.", done.exit_code, text[-OUTPUT_TAIL:]
    if kind == CheckType.FILE:
        done = _run(runtime, session, rule, ["/bin/sh", "-c", FILE_SCRIPT, "sh", rule.check_target])
        if done.timed_out:
            return _timed_out(rule)
        text = done.output.decode("utf-8", "replace")
        if done.exit_code != 0:
            return False, f"{rule.check_target} does not exist.", done.exit_code, text[-OUTPUT_TAIL:]
        if rule.pattern and not _found(rule.pattern, text):
            return False, f"{rule.check_target} does not contain {rule.pattern!r}.", done.exit_code, text[-OUTPUT_TAIL:]
        return True, f"{rule.check_target} exists.", done.exit_code, text[-OUTPUT_TAIL:]
    done = _run(runtime, session, rule, ["/bin/sh", "-c", rule.command])
    if done.timed_out:
        return False, f"Timed out after {rule.timeout_seconds} s.", -1, _tail(done.output)
    text = done.output.decode("utf-8", "replace")
    if kind == CheckType.SOLUTION:
        return (*_grade(session, rule, text), done.exit_code, text[-OUTPUT_TAIL:])
    if rule.expected_exit_code is not None and done.exit_code != rule.expected_exit_code:
        return False, f"Exit code {done.exit_code}, not {rule.expected_exit_code}.", done.exit_code, text[-OUTPUT_TAIL:]
    if rule.pattern and not _found(rule.pattern, text):
        return False, f"The output does not contain {rule.pattern!r}.", done.exit_code, text[-OUTPUT_TAIL:]
    return True, f"Exit code {done.exit_code}.", done.exit_code, text[-OUTPUT_TAIL:]


def _answer(question: dict, line: str) -> Any:
    """The answer a solution's last line gives: the text, or for a choice question the option (text or index)."""
    if question.get("type") in ("single_choice", "multiple_choice"):
        options = [str(o) for o in question.get("options") or []]
        picked = []
        for part in [p.strip() for p in line.split(",")] if question["type"] == "multiple_choice" else [line]:
            picked.append(options.index(part) if part in options else part)
        return picked if question["type"] == "multiple_choice" else picked[0]
    return line


def _grade(session, rule, output: str) -> tuple[bool, str]:
    """Grade the last non-empty line of a solution's output as the answer, as a solver's would be."""
    question = next((q for q in session.scenario_version.questions or [] if q.get("id") == rule.question_id), None)
    if question is None:
        return False, f"The version has no question {rule.question_id!r}."
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return False, "The solution printed nothing."
    expected = session_flag(session_id=session.pk, question_id=question["id"]) if is_dynamic_flag(question) else None
    try:
        graded = grading.grade(
            question=question,
            state=None,
            answer=_answer(question, lines[-1]),
            scoring_mode="allOrNothing",
            hint_mode="disabled",
            hints=[],
            expected_flag=expected,
        )
    except ApplicationError as exc:
        return False, f"The answer {lines[-1][:80]!r} could not be graded: {exc.message}"
    if graded.correct:
        return True, f"The answer to {rule.question_id} is correct."
    return False, f"The solution answered {lines[-1][:80]!r}, which is not correct for {rule.question_id}."
