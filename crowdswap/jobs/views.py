"""The HTML retry button of a failed job (pages without script, and every Retry form)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from crowdswap.jobs import engine
from crowdswap.jobs.access import get_job_for_owner
from crowdswap.lib.errors import ServiceError


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    """Re-queue a failed job and go back to the page the button was on."""
    job = get_job_for_owner(request.user, job_id)
    try:
        engine.retry(job=job)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Queued again: progress shows here as it runs.")
    target = request.POST.get("next") or request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/rooms/"
    return redirect(target)
