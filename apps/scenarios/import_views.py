"""The studio's import page: upload a bundle or a challenge.yml; big uploads run as a background job."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.scenarios import imports
from apps.scenarios.bundle_io import DEFAULT_LIMITS
from apps.scenarios.imports import bundle_import_enqueue
from rangex.core.errors import ApplicationError, UnsupportedMediaType
from rangex.core.throttling import throttle_check

# Uploads above this size are imported by a background job, so the request returns at once.
INLINE_IMPORT_MAX_BYTES = 5 * 1024 * 1024
ALLOWED_SUFFIXES = (".zip", ".yml", ".yaml")


class ImportForm(forms.Form):
    bundle = forms.FileField(
        label=gettext_lazy("Bundle"),
        help_text=gettext_lazy(
            "A RangeX bundle (.zip with scenario.yaml), a CTFd challenge.yml, a docker-compose.yml, "
            "or a .zip of challenge folders."
        ),
    )
    partial = forms.BooleanField(
        label=gettext_lazy("Import the valid challenges even if others are refused"),
        required=False,
        help_text=gettext_lazy("Otherwise nothing is imported unless every challenge of the upload is valid."),
    )
    new_version_of = forms.SlugField(
        label=gettext_lazy("Add as a new version of (slug)"),
        required=False,
        help_text=gettext_lazy(
            "By default a challenge whose slug exists becomes a new scenario; name the scenario it updates."
        ),
    )

    def clean_bundle(self):
        upload = self.cleaned_data["bundle"]
        if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
            raise forms.ValidationError(_("Upload a .zip, .yml or .yaml file."))
        if upload.size > DEFAULT_LIMITS.max_upload_bytes:
            limit = DEFAULT_LIMITS.max_upload_bytes // (1024 * 1024)
            raise forms.ValidationError(
                _("This file is larger than %(limit)s MB; split the bundle.") % {"limit": limit}
            )
        return upload


def staff_verified_required(view):
    """Let in creators and admins who signed in with their second factor, as the admin site does."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_staff:
            raise PermissionDenied(_("Only creators and admins may import scenarios."))
        if not user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            target = "accounts:login_2fa" if user.twofa_enabled else "accounts:twofa_setup"
            return redirect(f"{reverse(target)}?{query}")
        return view(request, *args, **kwargs)

    return wrapper


def _upload_refusal(request) -> ApplicationError | None:
    """Return why a POST cannot be an import before its body is read: too many, or not a file upload."""
    try:
        throttle_check(request, "import")
    except ApplicationError as exc:
        return exc
    if request.content_type != "multipart/form-data":
        sent = request.content_type or "no content type"
        return UnsupportedMediaType(
            _(
                "Upload the bundle as a file: a multipart/form-data form with the file in the field 'bundle' "
                "(this request sent %(sent)s)."
            )
            % {"sent": sent}
        )
    return None


@staff_verified_required
def scenario_import(request):
    context = {"form": ImportForm(), "inline_limit_mb": INLINE_IMPORT_MAX_BYTES // (1024 * 1024)}
    if request.method != "POST":
        return render(request, "scenarios/import.html", context)
    refusal = _upload_refusal(request)
    if refusal is not None:
        context["error"] = refusal
        response = render(request, "scenarios/import.html", context, status=refusal.status_code)
        for name, value in refusal.headers.items():
            response[name] = value
        return response
    form = context["form"] = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["bundle"]
        options = {
            "partial": form.cleaned_data["partial"],
            "new_version_of": form.cleaned_data["new_version_of"] or None,
        }
        try:
            if upload.size > INLINE_IMPORT_MAX_BYTES:
                job = bundle_import_enqueue(actor=request.user, upload=upload, filename=upload.name, **options)
                return redirect("scenario_import_job", pk=job.pk)
            upload.seek(0)
            report = imports.scenario_import(actor=request.user, data=upload, filename=upload.name, **options)
        except ApplicationError as exc:
            context["error"] = exc
            return render(request, "scenarios/import.html", context, status=exc.status_code)
        context["report"] = report.as_dict()
        status = 200 if report.imported or not report.refused else 400
        return render(request, "scenarios/import_done.html", context, status=status)
    return render(request, "scenarios/import.html", context, status=400 if form.errors else 200)


@staff_verified_required
def scenario_import_job(request, pk):
    from rangex.core.jobs import job_get_for_user

    job = job_get_for_user(user=request.user, pk=pk)
    return render(request, "scenarios/import_job.html", {"job": job})


# Included under /studio/import/ by rangex/urls.py.
urlpatterns = [
    path("", scenario_import, name="scenario_import"),
    path("jobs/<uuid:pk>/", scenario_import_job, name="scenario_import_job"),
]
