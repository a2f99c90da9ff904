"""Files the host opens or downloads: friends' photos, face thumbnails and albums (owner only).

DRF views, so the same routes serve the pages (session) and API clients (token).
"""

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from crowdswap.lib.api import ErrorSerializer
from crowdswap.lib.files import serve_file
from rooms.access import get_face_for_owner, get_identity_for_owner, get_photo_for_owner
from rooms.services.albums import album_photos, album_zip_name, stream_album_zip

FILE_RESPONSES = {(200, "image/jpeg"): OpenApiTypes.BINARY, 302: None, 404: ErrorSerializer}


class PhotoImageView(APIView):
    @extend_schema(responses=FILE_RESPONSES, summary="A friend's photo (on S3: a redirect to a short-lived URL)")
    def get(self, request: Request, room_id: int, object_id: int) -> HttpResponse:
        return serve_file(get_photo_for_owner(request.user, room_id, object_id).image)


class FaceThumbView(APIView):
    @extend_schema(responses=FILE_RESPONSES, summary="A face's thumbnail (on S3: a redirect to a short-lived URL)")
    def get(self, request: Request, room_id: int, object_id: int) -> HttpResponse:
        return serve_file(get_face_for_owner(request.user, room_id, object_id).thumbnail)


class AlbumZipView(APIView):
    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 404: ErrorSerializer},
        summary="Download a person's album as a ZIP (streamed)",
    )
    def get(self, request: Request, room_id: int, identity_id: int) -> StreamingHttpResponse:
        identity = get_identity_for_owner(request.user, room_id, identity_id)
        if identity.hidden:
            # Hidden people get no album: the same answer as for somebody who does not exist.
            raise Http404("No album for this person.")
        response = StreamingHttpResponse(stream_album_zip(album_photos(identity)), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{album_zip_name(identity)}"'
        patch_cache_control(response, private=True, no_store=True)
        return response
