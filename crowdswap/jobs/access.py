"""The one lookup of a job for its owner, used by the API and the HTML retry alike."""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from crowdswap.jobs.models import Job


def get_job_for_owner(user: Any, job_id: int) -> Job:
    """Return the job if ``user`` owns it; 404 otherwise, so strangers learn nothing."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such job.")
    return get_object_or_404(Job, id=job_id, owner=user)
