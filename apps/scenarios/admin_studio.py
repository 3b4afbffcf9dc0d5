"""Glue of the version page that keeps a creator's input: refused saves shown again, kept uploads.

Interface code only (requests, forms, responses); the checks themselves are the services'.
"""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext, gettext_lazy

from apps.scenarios import authoring, staging
from apps.scenarios.admin_forms import StagedFileInput, refusal_errors

# Workflow steps that, on a draft, save the page before they run (their buttons submit the change form).
SAVE_FIRST_STEPS = ("submit", "archive", "new", "check")


def form_refusing(form_class, refused):
    """Return ``form_class`` failing with ``refused``'s messages, on its fields where it has them."""

    class RefusedForm(form_class):
        def clean(self):
            data = super().clean()
            prefix = getattr(refused, "form_prefix", None)
            self.add_error(None, gettext("Nothing was saved: %(problem)s") % {"problem": refused.message})
            if prefix is None:
                for field, texts in refusal_errors(refused).items():
                    if field in self.fields:
                        for text in texts:
                            self.add_error(field, text)
            return data

    RefusedForm.__name__ = form_class.__name__
    return RefusedForm


def _asset_forms(response):
    context = getattr(response, "context_data", None) or {}
    for inline in context.get("inline_admin_formsets", []):
        for form in inline.formset.forms:
            widget = form.fields.get("file").widget if "file" in form.fields else None
            if isinstance(widget, StagedFileInput):
                yield form, widget


def staged_uploads_keep(request, response) -> None:
    """On a page shown again after a failed save, keep each chosen file for the next save."""
    if request.method != "POST" or response.status_code != 200:
        return
    for form, widget in _asset_forms(response):
        upload = request.FILES.get(f"{form.prefix}-file")
        if upload is not None:
            token = staging.staged_upload_keep(upload=upload, user_id=request.user.pk)
            widget.staged = (token, upload.name)


def staged_uploads_discard_on_commit(formset, *, user_id) -> None:
    """Remove the kept uploads a successful save used, once it is committed."""
    for form in formset.forms:
        widget = form.fields["file"].widget if "file" in form.fields else None
        token = getattr(widget, "used_token", None)
        if token:
            transaction.on_commit(lambda t=token: staging.staged_upload_discard(token=t, user_id=user_id))


# --- The checklist: the submit validation, run on demand, in words, next to each field ------------------

CHECK_SECTIONS = (
    ("mission", gettext_lazy("Mission written")),
    ("questions", gettext_lazy("Questions and hints complete")),
    ("machines", gettext_lazy("Machines have images and solvers can enter")),
    ("networks", gettext_lazy("Networks and pivot points join up")),
    ("about", gettext_lazy("Details (prerequisites)")),
)
KEY_RE = re.compile(r"^(machines|pivot_points)\[(\d+)\]\.(\w+)$")


def _place(key: str) -> tuple[str, str]:
    """Return (section, name of the input the message belongs next to) for a validation key."""
    if key == "mission_text":
        return "mission", "mission_text"
    if key.startswith(("questions", "hints")):
        return "questions", ""
    match = KEY_RE.match(key)
    if match:
        group, index, field = match.groups()
        section = "networks" if group == "pivot_points" or field == "network_group" else "machines"
        return section, f"{group}-{index}-{field}"
    if key == "machines":
        return "machines", ""
    if key.startswith("metadata"):
        return "about", "metadata"
    return "about", key


def checklist(version, errors: dict[str, list[str]]) -> list[dict]:
    """Return the checklist rows: each section, ok or with its messages (in words, with the input they name)."""
    human = authoring.humanize_errors(
        {k: v for k, v in errors.items() if k.startswith(("questions", "hints"))}, version.questions, version.hints
    )
    by_section: dict[str, list[dict]] = {name: [] for name, _ in CHECK_SECTIONS}
    for key, texts in errors.items():
        section, field = _place(key)
        for text in human.get(key, texts):
            by_section[section].append({"field": field, "text": text})
    return [
        {"name": name, "label": label, "problems": by_section[name], "ok": not by_section[name]}
        for name, label in CHECK_SECTIONS
    ]


def question_errors_by_index(version, errors: dict[str, list[str]]) -> dict[int, list[str]]:
    """Return the question and hint problems per question position, for the question editor's cards."""
    out: dict[int, list[str]] = {}
    qids = [q.get("id") if isinstance(q, dict) else None for q in version.questions or []]
    for key, texts in authoring.humanize_errors(
        {k: v for k, v in errors.items() if k.startswith(("questions", "hints"))}, version.questions, version.hints
    ).items():
        section, index, _ = authoring.humanize_key(key, version.questions or [], version.hints or [])
        if section == "hints" and index is not None and index < len(version.hints or []):
            hint = version.hints[index]
            qid = hint.get("question_id") if isinstance(hint, dict) else None
            index = qids.index(qid) if qid in qids else None
        if index is not None:
            out.setdefault(index, []).extend(texts)
    return out
