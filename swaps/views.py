"""HTML views for background jobs."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from swaps import jobs
from swaps.models import Job


def get_job_for_owner(request: HttpRequest, job_id: int) -> Job:
    """Return the job if the signed-in user owns its room; 404 otherwise."""
    return get_object_or_404(Job.objects.select_related("room"), id=job_id, room__owner=request.user)


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Re-queue a failed job and go back to the page the button was on."""
    job = get_job_for_owner(request, job_id)
    try:
        jobs.retry(job=job)
    except jobs.JobError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Queued again: progress shows here as it runs.")
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = f"/rooms/{job.room_id}/" if job.room_id else "/"
    return redirect(target)
