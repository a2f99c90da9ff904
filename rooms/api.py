"""REST API for rooms, friends' photos, identities, albums and crowd photos: one view per operation.

Every object is looked up through the owner's rooms, so another user gets 404 and listings never
show another user's rooms.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from rooms import serializers as s
from rooms import services
from rooms.models import Face, Identity, Photo, Room
from swaps import services as crowd_services
from swaps.models import CrowdPhoto, Job

ERRORS = {400: s.ErrorSerializer, 404: s.ErrorSerializer}


def get_room_for_owner(request: Any, room_id: int) -> Room:
    """Return the room if the requesting user owns it, else 404 (never say that it exists)."""
    return get_object_or_404(Room, pk=room_id, owner=request.user)


def _first_error(detail: Any, field: str = "") -> str:
    if isinstance(detail, dict):
        for key, value in detail.items():
            return _first_error(value, "" if key == "non_field_errors" else str(key))
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], field)
    text = str(detail)
    return f"{field}: {text}" if field else text


class OwnerView(APIView):
    """Base for views about one room: maps service refusals to 400 with their message."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, services.ServiceError):
            return Response({"detail": exc.message}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, ValidationError):
            # One sentence for people (and clients that only show "detail"), field errors for forms.
            return Response(
                {"detail": _first_error(exc.detail), "errors": exc.detail}, status=status.HTTP_400_BAD_REQUEST
            )
        return super().handle_exception(exc)

    def room(self, room_id: int) -> Room:
        return get_room_for_owner(self.request, room_id)


def _photo_jobs(room: Room) -> dict[int, int]:
    """Return the latest photo job id per photo of the room."""
    jobs: dict[int, int] = {}
    for job_id, payload in Job.objects.filter(room=room, kind="photo").order_by("id").values_list("id", "payload"):
        if isinstance(payload, dict) and "photo_id" in payload:
            jobs[int(payload["photo_id"])] = job_id
    return jobs


# ---------------------------------------------------------------- rooms


class RoomListView(OwnerView):
    @extend_schema(responses=s.RoomSerializer(many=True), summary="List my rooms")
    def get(self, request: Request) -> Response:
        rooms = services.rooms_for_owner(request.user)
        return Response(s.RoomSerializer(rooms, many=True, context={"request": request}).data)

    @extend_schema(request=s.RoomInputSerializer, responses={201: s.RoomSerializer, 400: s.ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = s.RoomInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.create_room(owner=request.user, **data.validated_data)
        return Response(s.RoomSerializer(room, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RoomDetailView(OwnerView):
    @extend_schema(responses={200: s.RoomSerializer, 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        return Response(s.RoomSerializer(self.room(room_id), context={"request": request}).data)

    @extend_schema(request=s.RoomUpdateSerializer, responses={200: s.RoomSerializer, **ERRORS})
    def patch(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        data = s.RoomUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        room = services.update_room(room=room, **data.validated_data)
        return Response(s.RoomSerializer(room, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: s.ErrorSerializer}, summary="Delete a room and all its files")
    def delete(self, request: Request, room_id: int) -> Response:
        services.delete_room(room=self.room(room_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- photos


def _upload_response(request: Request, report: services.UploadReport, photo_serializer: type) -> Response:
    added, duplicates, rejected = len(report.added), len(report.duplicates), len(report.rejected)
    parts = [f"{added} added"]
    if duplicates:
        parts.append(f"{duplicates} already uploaded")
    if rejected:
        parts.append(f"{rejected} rejected")
    if len(report.outcomes) == 1 and rejected:
        detail = report.rejected[0].error
    else:
        detail = ", ".join(parts) + "."
    context = {"request": request, "photo_serializer": photo_serializer}
    body = {"detail": detail, "results": s.UploadOutcomeSerializer(report.outcomes, many=True, context=context).data}
    if added:
        code = status.HTTP_201_CREATED
    elif rejected and not duplicates:
        code = status.HTTP_400_BAD_REQUEST
    else:
        code = status.HTTP_200_OK
    return Response(body, status=code)


def _uploaded_files(request: Request) -> list:
    files = request.FILES.getlist("files") + request.FILES.getlist("file")
    if not files:
        raise services.ServiceError('Choose at least one photo to upload (multipart field "files").')
    return files


class PhotoListView(OwnerView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: s.PhotoSerializer(many=True), 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        context = {"request": request, "jobs": _photo_jobs(room)}
        return Response(s.PhotoSerializer(room.photos.all(), many=True, context=context).data)

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.UploadReportSerializer, 200: s.UploadReportSerializer, **ERRORS},
        summary="Upload friends' photos",
        description="Each file is validated, de-duplicated by content and queued for face detection; "
        "the result lists what happened to each file.",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        report = services.add_photos(room=room, files=_uploaded_files(request))
        return _upload_response(request, report, s.PhotoSerializer)


class PhotoDetailView(OwnerView):
    def photo(self, room_id: int, photo_id: int) -> Photo:
        return get_object_or_404(Photo, pk=photo_id, room=self.room(room_id))

    @extend_schema(responses={200: s.PhotoSerializer, 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int, photo_id: int) -> Response:
        return Response(s.PhotoSerializer(self.photo(room_id, photo_id), context={"request": request}).data)

    @extend_schema(responses={204: None, 404: s.ErrorSerializer})
    def delete(self, request: Request, room_id: int, photo_id: int) -> Response:
        services.delete_photo(photo=self.photo(room_id, photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- identities


class IdentityListView(OwnerView):
    @extend_schema(responses={200: s.IdentitySerializer(many=True), 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        return Response(s.IdentitySerializer(room.identities.all(), many=True, context={"request": request}).data)


class IdentityDetailView(OwnerView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def identity(self, room_id: int, identity_id: int) -> Identity:
        return get_object_or_404(Identity, pk=identity_id, room=self.room(room_id))

    @extend_schema(responses={200: s.IdentitySerializer, 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int, identity_id: int) -> Response:
        return Response(s.IdentitySerializer(self.identity(room_id, identity_id), context={"request": request}).data)

    @extend_schema(
        request=s.IdentityUpdateSerializer,
        responses={200: s.IdentitySerializer, **ERRORS},
        summary="Rename, hide or unhide a person",
    )
    def patch(self, request: Request, room_id: int, identity_id: int) -> Response:
        identity = self.identity(room_id, identity_id)
        data = s.IdentityUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            identity = services.rename_identity(identity=identity, name=data.validated_data["name"])
        if "hidden" in data.validated_data:
            identity = services.set_identity_hidden(identity=identity, hidden=data.validated_data["hidden"])
        return Response(s.IdentitySerializer(identity, context={"request": request}).data)


class IdentityMergeView(OwnerView):
    @extend_schema(
        request=s.MergeSerializer,
        responses={200: s.IdentitySerializer, **ERRORS},
        summary="Merge people into the first one listed",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        data = s.MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identity = services.merge_identities(
            room=room, identity_ids=data.validated_data["identities"], name=data.validated_data.get("name")
        )
        return Response(s.IdentitySerializer(identity, context={"request": request}).data)


class FaceMoveView(OwnerView):
    @extend_schema(
        request=s.MoveFaceSerializer,
        responses={200: s.IdentitySerializer, **ERRORS},
        summary="Move a face to another person, or out into a new one",
    )
    def post(self, request: Request, room_id: int, face_id: int) -> Response:
        room = self.room(room_id)
        face = get_object_or_404(Face, pk=face_id, photo__room=room)
        data = s.MoveFaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target_id = data.validated_data.get("identity")
        target = None
        if target_id is not None:
            target = Identity.objects.filter(pk=target_id, room=room).first()
            if target is None:
                raise services.ServiceError("That person is not in this room. Reload the page and try again.")
        identity = services.move_face(face=face, identity=target)
        return Response(s.IdentitySerializer(identity, context={"request": request}).data)


class FaceIgnoreView(OwnerView):
    @extend_schema(
        request=s.IgnoreFaceSerializer,
        responses={200: s.FaceSerializer, **ERRORS},
        summary='Mark a face as "not a face / ignore", or undo it',
    )
    def post(self, request: Request, room_id: int, face_id: int) -> Response:
        room = self.room(room_id)
        face = get_object_or_404(Face, pk=face_id, photo__room=room)
        data = s.IgnoreFaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        face = services.ignore_face(face=face, ignored=data.validated_data["ignored"])
        return Response(s.FaceSerializer(face, context={"request": request}).data)


class LookalikesView(OwnerView):
    @extend_schema(
        responses={200: s.IdentityLookalikesSerializer(many=True), 404: s.ErrorSerializer},
        summary="Each person's most similar faces in the latest crowd photo",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        crowd = services.latest_crowd_photo(room)
        found = services.lookalikes(room=room)
        body = [
            {
                "identity": identity_id,
                "crowd_photo": crowd.pk,
                "lookalikes": [
                    {
                        "crowd_face": face.pk,
                        "box": crowd_services.normalised_box(face, crowd.width, crowd.height),
                        "distance": round(distance, 4),
                    }
                    for face, distance in pairs
                ],
            }
            for identity_id, pairs in found.items()
        ]
        return Response(body)


# ---------------------------------------------------------------- albums


def album_body(request: Any, room: Room, identity: Identity) -> dict:
    photos = list(services.album_photos(identity))
    return {
        "identity": identity.pk,
        "name": identity.display_name,
        "photo_count": len(photos),
        "zip_url": request.build_absolute_uri(reverse("api-album-zip", args=[room.pk, identity.pk])),
        "photos": [
            {
                "id": p.pk,
                "original_name": p.original_name,
                "image_url": request.build_absolute_uri(reverse("rooms:photo-image", args=[room.pk, p.pk])),
            }
            for p in photos
        ],
    }


class AlbumListView(OwnerView):
    @extend_schema(responses={200: s.AlbumSerializer(many=True), 404: s.ErrorSerializer}, summary="Albums per person")
    def get(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        return Response([album_body(request, room, i) for i in services.album_identities(room)])


def album_zip_response(identity: Identity) -> StreamingHttpResponse:
    """Return a streamed ZIP download of one person's album."""
    response = StreamingHttpResponse(
        services.stream_album_zip(services.album_photos(identity)), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{services.album_zip_name(identity)}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


class AlbumZipView(OwnerView):
    @extend_schema(
        responses={(200, "application/zip"): OpenApiTypes.BINARY, 404: s.ErrorSerializer},
        summary="Download a person's album as a ZIP (streamed)",
    )
    def get(self, request: Request, room_id: int, identity_id: int) -> StreamingHttpResponse:
        room = self.room(room_id)
        identity = get_object_or_404(Identity, pk=identity_id, room=room, hidden=False)
        return album_zip_response(identity)


# ---------------------------------------------------------------- crowds


def _crowd_context(request: Any, room: Room) -> dict:
    return {"request": request, "people": crowd_services.visible_people(room)}


class CrowdListView(OwnerView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: s.CrowdPhotoSerializer(many=True), 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        crowds = CrowdPhoto.objects.filter(room=room)
        return Response(s.CrowdPhotoSerializer(crowds, many=True, context=_crowd_context(request, room)).data)

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.UploadReportSerializer, 200: s.UploadReportSerializer, **ERRORS},
        summary="Upload crowd photos",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = self.room(room_id)
        report = crowd_services.add_crowd_photos(room=room, files=_uploaded_files(request))
        return _upload_response(request, report, s.CrowdPhotoSerializer)


class CrowdDetailView(OwnerView):
    def crowd(self, room_id: int, crowd_id: int) -> CrowdPhoto:
        return get_object_or_404(CrowdPhoto, pk=crowd_id, room=self.room(room_id))

    @extend_schema(responses={200: s.CrowdPhotoSerializer, 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int, crowd_id: int) -> Response:
        crowd = self.crowd(room_id, crowd_id)
        return Response(s.CrowdPhotoSerializer(crowd, context=_crowd_context(request, crowd.room)).data)

    @extend_schema(responses={204: None, 404: s.ErrorSerializer})
    def delete(self, request: Request, room_id: int, crowd_id: int) -> Response:
        crowd_services.delete_crowd_photo(crowd_photo=self.crowd(room_id, crowd_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- files (session or token, owner only)


def file_response(field: Any) -> FileResponse:
    """Stream a stored file through the storage API (works for local disk and S3 alike)."""
    if not field:
        raise Http404("No file.")
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError as error:
        raise Http404("File missing.") from error
    response = FileResponse(handle, content_type="image/jpeg")
    # Names are random and never reused, so the browser may keep a private copy.
    patch_cache_control(response, private=True, max_age=3600)
    return response


class _FileView(OwnerView):
    def queryset(self, room: Room) -> QuerySet:
        raise NotImplementedError

    file_attr = "image"

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: s.ErrorSerializer})
    def get(self, request: Request, room_id: int, object_id: int) -> FileResponse:
        row = get_object_or_404(self.queryset(self.room(room_id)), pk=object_id)
        return file_response(getattr(row, self.file_attr))


class PhotoImageView(_FileView):
    def queryset(self, room: Room) -> QuerySet:
        return Photo.objects.filter(room=room)


class FaceThumbView(_FileView):
    file_attr = "thumbnail"

    def queryset(self, room: Room) -> QuerySet:
        return Face.objects.filter(photo__room=room)


class CrowdImageView(_FileView):
    def queryset(self, room: Room) -> QuerySet:
        return CrowdPhoto.objects.filter(room=room)


class SwapImageView(_FileView):
    def queryset(self, room: Room) -> QuerySet:
        from swaps.models import Swap

        return Swap.objects.filter(room=room)
