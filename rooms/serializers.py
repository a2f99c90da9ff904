"""Small input and output serializers, one pair per API operation; no business rules here."""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rooms.models import Face, Identity, Photo, Room, cover_among
from rooms.services.rooms import room_cover_face


def _absolute(context: dict, url: str) -> str:
    request = context.get("request")
    return request.build_absolute_uri(url) if request is not None else url


# ---------------------------------------------------------------- rooms


class RoomInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class RoomUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class RoomSerializer(serializers.ModelSerializer):
    photo_count = serializers.SerializerMethodField()
    identity_count = serializers.SerializerMethodField()
    pending_count = serializers.SerializerMethodField()
    cover_url = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = [
            "id",
            "title",
            "description",
            "created_at",
            "updated_at",
            "photo_count",
            "identity_count",
            "pending_count",
            "cover_url",
        ]

    def get_photo_count(self, room: Room) -> int:
        return room.photo_count if hasattr(room, "photo_count") else room.photos.count()

    def get_identity_count(self, room: Room) -> int:
        return room.identity_count if hasattr(room, "identity_count") else room.identities.count()

    def get_pending_count(self, room: Room) -> int:
        if hasattr(room, "pending_count"):
            return room.pending_count
        return room.photos.filter(status__in=["queued", "processing"]).count()

    @extend_schema_field(OpenApiTypes.URI)
    def get_cover_url(self, room: Room) -> str | None:
        face = room_cover_face(room)
        if face is None:
            return None
        return _absolute(self.context, reverse("rooms:face-thumb", args=[room.pk, face.pk]))


# ---------------------------------------------------------------- photos and faces


class PhotoUploadSerializer(serializers.Serializer):
    files = serializers.ListField(child=serializers.FileField(), help_text="One or more image files.")


class FaceSerializer(serializers.ModelSerializer):
    box = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()

    class Meta:
        model = Face
        fields = ["id", "photo", "identity", "box", "thumbnail_url", "ignored", "pinned", "score"]

    def get_box(self, face: Face) -> list[int]:
        return list(face.box)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, face: Face) -> str | None:
        if not face.thumbnail:
            return None
        return _absolute(self.context, reverse("rooms:face-thumb", args=[face.photo.room_id, face.pk]))

    def get_score(self, face: Face) -> float:
        return float((face.quality or {}).get("score", 0.0))


class PhotoSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()
    face_count = serializers.SerializerMethodField()
    job = serializers.IntegerField(source="job_id", allow_null=True, read_only=True)
    retryable = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "id",
            "original_name",
            "status",
            "error",
            "width",
            "height",
            "face_count",
            "image_url",
            "job",
            "retryable",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, photo: Photo) -> str:
        return _absolute(self.context, reverse("rooms:photo-image", args=[photo.room_id, photo.pk]))

    def get_face_count(self, photo: Photo) -> int:
        return photo.faces.filter(ignored=False).count()

    def get_retryable(self, photo: Photo) -> bool:
        """Whether its job failed for good, so the page offers Retry."""
        return photo.job is not None and photo.job.retryable


class UploadOutcomeSerializer(serializers.Serializer):
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=["added", "duplicate", "rejected"])
    error = serializers.CharField(allow_blank=True)
    code = serializers.CharField(allow_blank=True)
    photo = serializers.SerializerMethodField()

    @extend_schema_field(PhotoSerializer(allow_null=True))
    def get_photo(self, outcome: Any) -> dict | None:
        if outcome.photo is None:
            return None
        return self.context["photo_serializer"](outcome.photo, context=self.context).data


class UploadReportSerializer(serializers.Serializer):
    detail = serializers.CharField()
    results = UploadOutcomeSerializer(many=True)


# ---------------------------------------------------------------- identities


class IdentitySerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True)
    face_count = serializers.SerializerMethodField()
    photo_count = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    faces = serializers.SerializerMethodField()

    class Meta:
        model = Identity
        fields = [
            "id",
            "name",
            "display_name",
            "hidden",
            "cover",
            "face_count",
            "photo_count",
            "thumbnail_url",
            "faces",
        ]

    def _faces(self, identity: Identity) -> list[Face]:
        cache = self.context.setdefault("_faces", {})
        if identity.pk not in cache:
            cache[identity.pk] = list(identity.faces.filter(ignored=False).select_related("photo"))
        return cache[identity.pk]

    def get_face_count(self, identity: Identity) -> int:
        return len(self._faces(identity))

    def get_photo_count(self, identity: Identity) -> int:
        return len({f.photo_id for f in self._faces(identity)})

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, identity: Identity) -> str | None:
        best = cover_among(self._faces(identity), identity.cover_id)
        if best is None:
            return None
        return _absolute(self.context, reverse("rooms:face-thumb", args=[identity.room_id, best.pk]))

    @extend_schema_field(FaceSerializer(many=True))
    def get_faces(self, identity: Identity) -> list[dict]:
        return FaceSerializer(self._faces(identity), many=True, context=self.context).data


class IdentityUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    hidden = serializers.BooleanField(required=False)
    cover = serializers.IntegerField(
        required=False, allow_null=True, help_text="Id of one of this person's faces to show for them; null: the best."
    )


class EditSerializer(serializers.Serializer):
    """An edit of a room's people the host can undo."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    undo_url = serializers.SerializerMethodField()

    @extend_schema_field(OpenApiTypes.URI)
    def get_undo_url(self, edit: Any) -> str:
        return _absolute(self.context, reverse("api-edit-undo", args=[edit.room_id, edit.pk]))


class EditedIdentitySerializer(IdentitySerializer):
    """The person an undoable edit produced, and the edit itself (to undo it)."""

    edit = serializers.SerializerMethodField()

    class Meta(IdentitySerializer.Meta):
        fields = [*IdentitySerializer.Meta.fields, "edit"]

    @extend_schema_field(EditSerializer)
    def get_edit(self, identity: Identity) -> dict:
        return EditSerializer(self.context["edit"], context=self.context).data


class UndoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    identities = serializers.ListField(child=serializers.IntegerField(), help_text="People the undo brought back.")


class MergeSerializer(serializers.Serializer):
    identities = serializers.ListField(child=serializers.IntegerField(), min_length=2)
    name = serializers.CharField(max_length=80, required=False, allow_blank=True)


class MoveFaceSerializer(serializers.Serializer):
    identity = serializers.IntegerField(
        allow_null=True, required=False, help_text="Target identity id; null or missing moves the face to a new person."
    )


class KeepApartSerializer(serializers.Serializer):
    identities = serializers.ListField(child=serializers.IntegerField(), min_length=2, max_length=2)


class SuggestedPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    thumbnail_url = serializers.URLField(allow_null=True)


class MergeSuggestionSerializer(serializers.Serializer):
    first = SuggestedPersonSerializer()
    second = SuggestedPersonSerializer()
    distance = serializers.FloatField(help_text="Distance of their nearest faces: lower is more alike.")


class IgnoreFaceSerializer(serializers.Serializer):
    ignored = serializers.BooleanField(default=True)


# ---------------------------------------------------------------- albums


class AlbumPhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    original_name = serializers.CharField()
    image_url = serializers.URLField()


class AlbumSerializer(serializers.Serializer):
    identity = serializers.IntegerField()
    name = serializers.CharField()
    photo_count = serializers.IntegerField()
    zip_url = serializers.URLField()
    photos = AlbumPhotoSerializer(many=True)
