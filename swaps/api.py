"""REST endpoints for background jobs: read a job's state, retry a failed one."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from swaps import jobs
from swaps.models import Job


def get_job_for_owner(request: Request, job_id: int) -> Job:
    """Return the job if the user owns its room; 404 otherwise, so strangers learn nothing."""
    return get_object_or_404(Job.objects.select_related("room"), id=job_id, room__owner=request.user)


class JobOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "stage",
            "error",
            "payload",
            "result",
            "attempts",
            "queued_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class JobDetailApi(APIView):
    @extend_schema(responses=JobOutputSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        """Return the job's status, progress and outcome."""
        return Response(JobOutputSerializer(get_job_for_owner(request, job_id)).data)


class JobRetryApi(APIView):
    @extend_schema(request=None, responses=JobOutputSerializer)
    def post(self, request: Request, job_id: int) -> Response:
        """Re-queue a failed job."""
        job = get_job_for_owner(request, job_id)
        try:
            job = jobs.retry(job=job)
        except jobs.JobError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
