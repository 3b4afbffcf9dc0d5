"""Glue of the version page that keeps a creator's input: refused saves shown again, kept uploads.

Interface code only (requests, forms, responses); the checks themselves are the services'.
"""

from __future__ import annotations

from django.db import transaction

from apps.scenarios import staging
from apps.scenarios.admin_forms import StagedFileInput, refusal_errors

# Workflow steps that, on a draft, save the page before they run (their buttons submit the change form).
SAVE_FIRST_STEPS = ("submit", "archive", "new")


def form_refusing(form_class, refused):
    """Return ``form_class`` failing with ``refused``'s messages, on its fields where it has them."""

    class RefusedForm(form_class):
        def clean(self):
            data = super().clean()
            prefix = getattr(refused, "form_prefix", None)
            self.add_error(None, f"Nothing was saved: {refused.message}")
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
