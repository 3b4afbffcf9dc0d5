from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from rangex.core.jobs import job_get_for_user


@login_required
def job_detail(request, pk):
    job = job_get_for_user(user=request.user, pk=pk)
    template = "ops/partials/job_progress.html" if request.htmx else "ops/job_detail.html"
    return render(request, template, {"job": job})


def metrics(request):
    """Serve Prometheus metrics when enabled, to staff or to a scraper with RANGEX_METRICS_TOKEN; else 404."""
    import hmac

    from django.conf import settings
    from django.http import Http404, HttpResponse

    from apps.ops.metrics import metrics_text
    from rangex.core.system import get_settings

    if not get_settings().enable_prometheus_metrics:
        raise Http404
    token = settings.RANGEX_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    bearer_ok = bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())
    user = request.user
    if not bearer_ok and not (user.is_authenticated and user.is_platform_admin):
        raise Http404
    return HttpResponse(metrics_text(), content_type="text/plain; version=0.0.4; charset=utf-8")
