"""REST API for rooms, friends' photos, people and albums: one view per operation, thin over the services.

Every object is looked up through rooms.access (the owner's rooms), so another user gets 404 and
listings never show another user's rooms. Errors take one shape and status everywhere
(crowdswap.lib.api.exception_handler).
"""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crowdswap.lib.api import ErrorSerializer
from crowdswap.lib.errors import ServiceError
from rooms import serializers as s
from rooms.access import (
    get_edit_for_owner,
    get_face_for_owner,
    get_identity_for_owner,
    get_photo_for_owner,
    get_room_for_owner,
)
from rooms.models import Identity, PeopleEdit, Room
from rooms.services import albums, identities, photos, rooms
from rooms.services.uploads import UploadReport

ERRORS = {400: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


# ---------------------------------------------------------------- rooms


class RoomListView(APIView):
    @extend_schema(responses=s.RoomSerializer(many=True), summary="List my rooms")
    def get(self, request: Request) -> Response:
        found = rooms.rooms_for_owner(request.user)
        return Response(s.RoomSerializer(found, many=True, context={"request": request}).data)

    @extend_schema(request=s.RoomInputSerializer, responses={201: s.RoomSerializer, 400: ErrorSerializer})
    def post(self, request: Request) -> Response:
        data = s.RoomInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = rooms.create_room(owner=request.user, **data.validated_data)
        return Response(s.RoomSerializer(room, context={"request": request}).data, status=status.HTTP_201_CREATED)


class RoomDetailView(APIView):
    @extend_schema(responses={200: s.RoomSerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        return Response(s.RoomSerializer(get_room_for_owner(request.user, room_id), context={"request": request}).data)

    @extend_schema(request=s.RoomUpdateSerializer, responses={200: s.RoomSerializer, **ERRORS})
    def patch(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        data = s.RoomUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        room = rooms.update_room(room=room, **data.validated_data)
        return Response(s.RoomSerializer(room, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer}, summary="Delete a room and all its files")
    def delete(self, request: Request, room_id: int) -> Response:
        rooms.delete_room(room=get_room_for_owner(request.user, room_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- uploads


def upload_response(request: Request, report: UploadReport, photo_serializer: type) -> Response:
    """Return the per-file outcome of an upload: 201 if something was added, 400 if all were refused."""
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


def uploaded_files(request: Request) -> list[Any]:
    """Return the files of a multipart upload ("files", or "file" for one); refuse an empty upload."""
    files = request.FILES.getlist("files") + request.FILES.getlist("file")
    if not files:
        raise ServiceError('Choose at least one photo to upload (multipart field "files").')
    return files


# ---------------------------------------------------------------- photos


class PhotoListView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses={200: s.PhotoSerializer(many=True), 404: ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        return Response(
            s.PhotoSerializer(room.photos.select_related("job"), many=True, context={"request": request}).data
        )

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer},
        responses={201: s.UploadReportSerializer, 200: s.UploadReportSerializer, **ERRORS},
        summary="Upload friends' photos",
        description="Each file is validated, de-duplicated by content and queued for face detection; "
        "the result lists what happened to each file.",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        report = photos.add_photos(room=room, files=uploaded_files(request))
        return upload_response(request, report, s.PhotoSerializer)


class PhotoDetailView(APIView):
    @extend_schema(responses={200: s.PhotoSerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int, photo_id: int) -> Response:
        photo = get_photo_for_owner(request.user, room_id, photo_id)
        return Response(s.PhotoSerializer(photo, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ErrorSerializer})
    def delete(self, request: Request, room_id: int, photo_id: int) -> Response:
        photos.delete_photo(photo=get_photo_for_owner(request.user, room_id, photo_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- identities


class IdentityListView(APIView):
    @extend_schema(responses={200: s.IdentitySerializer(many=True), 404: ErrorSerializer})
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        return Response(s.IdentitySerializer(room.identities.all(), many=True, context={"request": request}).data)


class IdentityDetailView(APIView):
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @extend_schema(responses={200: s.IdentitySerializer, 404: ErrorSerializer})
    def get(self, request: Request, room_id: int, identity_id: int) -> Response:
        identity = get_identity_for_owner(request.user, room_id, identity_id)
        return Response(s.IdentitySerializer(identity, context={"request": request}).data)

    @extend_schema(
        request=s.IdentityUpdateSerializer,
        responses={200: s.IdentitySerializer, **ERRORS},
        summary="Rename, hide or unhide a person",
    )
    def patch(self, request: Request, room_id: int, identity_id: int) -> Response:
        identity: Identity = get_identity_for_owner(request.user, room_id, identity_id)
        data = s.IdentityUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "name" in data.validated_data:
            identity = identities.rename_identity(identity=identity, name=data.validated_data["name"])
        if "hidden" in data.validated_data:
            identity = identities.set_identity_hidden(identity=identity, hidden=data.validated_data["hidden"])
        if "cover" in data.validated_data:
            identity = identities.set_identity_cover(identity=identity, face_id=data.validated_data["cover"])
        return Response(s.IdentitySerializer(identity, context={"request": request}).data)


class IdentityMergeView(APIView):
    @extend_schema(
        request=s.MergeSerializer,
        responses={200: s.EditedIdentitySerializer, **ERRORS},
        summary="Merge people into the first one listed (undoable)",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        data = s.MergeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        edit = identities.merge_identities(
            room=room, identity_ids=data.validated_data["identities"], name=data.validated_data.get("name")
        )
        return edited_response(request, edit)


def edited_response(request: Request, edit: PeopleEdit) -> Response:
    """Return the person an undoable edit produced, with the edit's undo link."""
    identity = Identity.objects.get(pk=edit.identity_id)
    return Response(s.EditedIdentitySerializer(identity, context={"request": request, "edit": edit}).data)


class EditUndoView(APIView):
    @extend_schema(
        request=None,
        responses={200: s.UndoneSerializer, **ERRORS},
        summary="Undo a merge or a moved face",
        description="People come back under their old ids with their names; faces changed again since stay put.",
    )
    def post(self, request: Request, room_id: int, edit_id: int) -> Response:
        edit = identities.undo_edit(edit=get_edit_for_owner(request.user, room_id, edit_id))
        changes = edit.changes
        if edit.kind == PeopleEdit.Kind.MERGE:
            back = [changes["target"]["id"], *(record["id"] for record in changes["absorbed"])]
            detail = "Merge undone."
        else:
            back = [changes["from"]["id"]] if changes["from"] else []
            detail = "Move undone."
        present = set(Identity.objects.filter(pk__in=back).values_list("pk", flat=True))
        return Response({"detail": detail, "identities": [pk for pk in back if pk in present]})


def _suggested_person(request: Request, identity: Identity) -> dict[str, Any]:
    cover = identity.cover_face()
    url = reverse("rooms:face-thumb", args=[identity.room_id, cover.pk]) if cover else None
    return {
        "id": identity.pk,
        "display_name": identity.display_name,
        "thumbnail_url": request.build_absolute_uri(url) if url else None,
    }


class MergeSuggestionsView(APIView):
    @extend_schema(
        responses={200: s.MergeSuggestionSerializer(many=True), 404: ErrorSerializer},
        summary="Pairs of people who may be the same person, nearest first",
        description="Answer each: merge them (identities/merge/) or keep them apart (identities/keep-apart/).",
    )
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        body = [
            {
                "first": _suggested_person(request, a),
                "second": _suggested_person(request, b),
                "distance": round(distance, 4),
            }
            for a, b, distance in identities.merge_suggestions(room)
        ]
        return Response(body)


class KeepApartView(APIView):
    @extend_schema(
        request=s.KeepApartSerializer,
        responses={204: None, **ERRORS},
        summary="Answer a merge suggestion with: these are two people",
    )
    def post(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        data = s.KeepApartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        identities.keep_apart(room=room, identity_ids=data.validated_data["identities"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class FaceMoveView(APIView):
    @extend_schema(
        request=s.MoveFaceSerializer,
        responses={200: s.EditedIdentitySerializer, **ERRORS},
        summary="Move a face to another person, or out into a new one (undoable)",
    )
    def post(self, request: Request, room_id: int, face_id: int) -> Response:
        face = get_face_for_owner(request.user, room_id, face_id)
        data = s.MoveFaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return edited_response(
            request, identities.move_face(face=face, identity_id=data.validated_data.get("identity"))
        )


class FaceIgnoreView(APIView):
    @extend_schema(
        request=s.IgnoreFaceSerializer,
        responses={200: s.FaceSerializer, **ERRORS},
        summary='Mark a face as "not a face / ignore", or undo it',
    )
    def post(self, request: Request, room_id: int, face_id: int) -> Response:
        face = get_face_for_owner(request.user, room_id, face_id)
        data = s.IgnoreFaceSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        face = identities.ignore_face(face=face, ignored=data.validated_data["ignored"])
        return Response(s.FaceSerializer(face, context={"request": request}).data)


# ---------------------------------------------------------------- albums


def album_body(request: Any, room: Room, identity: Identity) -> dict[str, Any]:
    listed = list(albums.album_photos(identity))
    return {
        "identity": identity.pk,
        "name": identity.display_name,
        "photo_count": len(listed),
        "zip_url": request.build_absolute_uri(reverse("api-album-zip", args=[room.pk, identity.pk])),
        "photos": [
            {
                "id": p.pk,
                "original_name": p.original_name,
                "image_url": request.build_absolute_uri(reverse("rooms:photo-image", args=[room.pk, p.pk])),
            }
            for p in listed
        ],
    }


class AlbumListView(APIView):
    @extend_schema(responses={200: s.AlbumSerializer(many=True), 404: ErrorSerializer}, summary="Albums per person")
    def get(self, request: Request, room_id: int) -> Response:
        room = get_room_for_owner(request.user, room_id)
        return Response([album_body(request, room, i) for i in albums.album_identities(room)])
