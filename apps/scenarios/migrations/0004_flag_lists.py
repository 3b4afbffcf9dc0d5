"""Rewrite single-pattern flag questions (``answer`` + ``match``) into the list of typed flags.

The conversion is written out here rather than imported, so this migration keeps meaning what it
meant when it was written. A regex pattern is anchored at the end, because the older check was a
full match and the list is graded as CTFd grades (match from the start, the match is the whole
submission); with the anchor both accept the same submissions.
"""

from django.db import migrations


def _to_list(question):
    if not isinstance(question, dict) or question.get("type") != "flag" or question.get("dynamic"):
        return question
    if "flags" in question or "answer" not in question:
        return question
    new = {k: v for k, v in question.items() if k not in ("answer", "match")}
    answer, match = question.get("answer"), question.get("match", "exact")
    if match == "regex":
        new["flags"] = [{"type": "regex", "content": f"(?:{answer})\\Z", "case_insensitive": False}]
    else:
        text = str(answer if answer is not None else "").strip()
        new["flags"] = [{"type": "static", "content": text, "case_insensitive": match == "case_insensitive"}]
    return new


def _to_pattern(question):
    if not isinstance(question, dict) or not isinstance(question.get("flags"), list):
        return question
    flags = question["flags"]
    if len(flags) != 1 or not isinstance(flags[0], dict):
        return question
    flag = flags[0]
    new = {k: v for k, v in question.items() if k != "flags"}
    content = flag.get("content", "")
    if flag.get("type") == "regex":
        if flag.get("case_insensitive"):
            return question
        new["answer"] = content[3:-3] if content.startswith("(?:") and content.endswith(")\\Z") else content
        new["match"] = "regex"
    else:
        new["answer"] = content
        new["match"] = "case_insensitive" if flag.get("case_insensitive") else "exact"
    return new


def _rewrite(apps, convert):
    ScenarioVersion = apps.get_model("scenarios", "ScenarioVersion")
    for version in ScenarioVersion.objects.only("id", "questions").iterator():
        if not isinstance(version.questions, list):
            continue
        questions = [convert(q) for q in version.questions]
        if questions != version.questions:
            ScenarioVersion.objects.filter(pk=version.pk).update(questions=questions)


def forwards(apps, schema_editor):
    _rewrite(apps, _to_list)


def backwards(apps, schema_editor):
    _rewrite(apps, _to_pattern)


class Migration(migrations.Migration):
    dependencies = [("scenarios", "0003_machine_user_capabilities")]

    operations = [migrations.RunPython(forwards, backwards)]
