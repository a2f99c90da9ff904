"""REST endpoints for background jobs: read one, retry a failed one (owner only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crowdswap.jobs import engine
from crowdswap.jobs.access import get_job_for_owner
from crowdswap.jobs.serializers import JobOutputSerializer
from crowdswap.lib.api import ErrorSerializer


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutputSerializer, 404: ErrorSerializer})
    def get(self, request: Request, job_id: int) -> Response:
        """Return the job's status, progress and outcome."""
        return Response(JobOutputSerializer(get_job_for_owner(request.user, job_id)).data)


class JobRetryApi(APIView):
    @extend_schema(request=None, responses={202: JobOutputSerializer, 404: ErrorSerializer, 409: ErrorSerializer})
    def post(self, request: Request, job_id: int) -> Response:
        """Re-queue a failed job."""
        job = engine.retry(job=get_job_for_owner(request.user, job_id))
        return Response(JobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)
