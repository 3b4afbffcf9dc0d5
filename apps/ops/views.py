from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from apps.ops.selectors import job_get_for_user


@login_required
def job_detail(request, pk):
    job = job_get_for_user(user=request.user, pk=pk)
    template = "ops/partials/job_progress.html" if request.htmx else "ops/job_detail.html"
    return render(request, template, {"job": job})
