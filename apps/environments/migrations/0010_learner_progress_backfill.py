"""Fill the learners' per-question standing from the answers of their earlier practice labs."""

import hashlib
import json

from django.db import migrations
from django.utils.dateparse import parse_datetime

# A frozen copy of apps.environments.progress.question_fingerprint as it was written.
NOT_FINGERPRINTED = frozenset({"id", "points", "max_attempts", "scoring"})


def _fingerprint(question):
    content = {k: v for k, v in question.items() if k not in NOT_FINGERPRINTED}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def backfill(apps, schema_editor):
    Session = apps.get_model("environments", "EnvironmentSession")
    Progress = apps.get_model("environments", "LearnerQuestionProgress")
    best = {}
    sessions = (
        Session.objects.filter(is_test=False, event_id__isnull=True)
        .select_related("scenario_version")
        .order_by("created_at")
    )
    for session in sessions.iterator():
        version = session.scenario_version
        for question in version.questions or []:
            state = (session.answers or {}).get(question.get("id"))
            if not isinstance(state, dict) or not question.get("id"):
                continue
            key = (session.user_id, version.scenario_id, question["id"], _fingerprint(question))
            held = best.get(key)
            if held is not None and held[0].get("correct") and not state.get("correct"):
                continue
            best[key] = (state, session.pk, session.created_at)
    for (user_id, scenario_id, question_id, fingerprint), (state, session_id, created_at) in best.items():
        solved_at = None
        if state.get("correct"):
            solved_at = parse_datetime(str(state.get("solved_at") or "")) or created_at
        Progress.objects.get_or_create(
            user_id=user_id,
            scenario_id=scenario_id,
            question_id=question_id,
            fingerprint=fingerprint,
            defaults={
                "state": state,
                "solved_at": solved_at,
                "points": int(state.get("earned_points") or 0),
                "last_session_id": session_id,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("environments", "0009_learner_question_progress")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
