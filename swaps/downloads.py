"""Pictures the host opens: crowd photos and swap results (owner only; DRF, so pages and API clients alike)."""

from django.http import HttpResponse
from django.utils.text import slugify
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from crowdswap.lib.files import serve_file
from rooms.downloads import FILE_RESPONSES
from swaps.access import get_crowd_for_owner, get_swap_for_owner


class CrowdImageView(APIView):
    @extend_schema(responses=FILE_RESPONSES, summary="A crowd photo (on S3: a redirect to a short-lived URL)")
    def get(self, request: Request, room_id: int, object_id: int) -> HttpResponse:
        return serve_file(get_crowd_for_owner(request.user, room_id, object_id).image)


class SwapImageView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("download", bool, description="Save it as a file (Content-Disposition)")],
        responses=FILE_RESPONSES,
        summary="A swap result (on S3: a redirect to a short-lived URL)",
    )
    def get(self, request: Request, room_id: int, object_id: int) -> HttpResponse:
        swap = get_swap_for_owner(request.user, room_id, object_id)
        name = f"{slugify(swap.room.title) or 'crowdswap'}-version-{swap.version}.jpg"
        return serve_file(swap.image, download_name=name if request.query_params.get("download") else "")
