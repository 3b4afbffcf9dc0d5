from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from rangex.core.jobs import job_get_for_user


@login_required
def job_detail(request, pk):
    job = job_get_for_user(user=request.user, pk=pk)
    template = "ops/partials/job_progress.html" if request.htmx else "ops/job_detail.html"
    return render(request, template, {"job": job})


def metrics(request):
    """Serve the Prometheus metrics to an allowed scraper or admin; 404 to everyone else."""
    from django.http import Http404, HttpResponse

    from apps.ops.metrics import CONTENT_TYPE, metrics_access_allowed, metrics_text

    if not metrics_access_allowed(request):
        raise Http404
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE)
