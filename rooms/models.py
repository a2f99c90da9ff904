"""Rooms, friends' photos, the faces found in them and the identities they cluster into."""

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.conf import settings
from django.db import models

from crowdswap.jobs.models import Job
from swaps.pipeline import faces as pipeline_faces


class Room(models.Model):
    """A challenge room: one host, their friends' photos, crowd photos and swaps."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def group_name(self) -> str:
        """Name of the private Channels group that receives this room's progress events."""
        return f"room-{self.pk}"


def photo_upload_to(instance: "Photo", filename: str) -> str:
    return f"rooms/{instance.room_id}/photos/{filename}"


def face_thumb_upload_to(instance: "Face", filename: str) -> str:
    return f"rooms/{instance.photo.room_id}/faces/{filename}"


class ProcessingStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class UploadedImage(models.Model):
    """Fields shared by every uploaded picture: stored re-encoded (EXIF-oriented, no metadata)."""

    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=ProcessingStatus.choices, default=ProcessingStatus.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class DetectedFace(models.Model):
    """Fields shared by every detected face: box in image pixels, landmarks, embedding, quality."""

    left = models.IntegerField()
    top = models.IntegerField()
    width = models.IntegerField()
    height = models.IntegerField()
    landmarks = models.JSONField(default=list)  # 68 [x, y] points in image pixels, dlib's order
    embedding = models.BinaryField()  # 128 float32; empty for a face kept only as a box
    # MediaPipe's dense mesh (468 x [x, y, z] float32) of embedded faces: the swap warps the whole face with it.
    mesh = models.BinaryField(null=True, blank=True)
    quality = models.JSONField(default=dict)
    # The pipeline's verdict: large, frontal and sharp enough to seed a person or be a swap source.
    usable = models.BooleanField(default=False)

    class Meta:
        abstract = True

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.width, self.height)

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype=np.float32).astype(np.float64)

    @property
    def embedded(self) -> bool:
        """Return whether this face has an embedding (faces kept only as boxes have none)."""
        return len(bytes(self.embedding)) == 128 * 4

    def to_pipeline(self) -> pipeline_faces.Face:
        """Return this stored face as the pipeline's Face (the one conversion in this direction)."""
        mesh = (
            np.frombuffer(bytes(self.mesh), dtype=np.float32).reshape(-1, 3).astype(np.float64) if self.mesh else None
        )
        return pipeline_faces.Face(
            box=self.box,
            landmarks=np.asarray(self.landmarks, dtype=np.float64).reshape(-1, 2),
            embedding=self.embedding_array(),
            quality=dict(self.quality or {}),
            usable=self.usable,
            mesh=mesh,
        )

    @staticmethod
    def fields_from_pipeline(face: pipeline_faces.Face) -> dict[str, Any]:
        """Return the stored fields of a pipeline Face (the one conversion in the other direction)."""
        left, top, width, height = (int(v) for v in face.box)
        return {
            "left": left,
            "top": top,
            "width": width,
            "height": height,
            "landmarks": np.asarray(face.landmarks).round(1).tolist(),
            "embedding": np.asarray(face.embedding, dtype=np.float32).tobytes(),
            # Only faces that may be swapped keep their mesh: a crowd's tiny faces are boxes.
            "mesh": np.asarray(face.mesh, dtype=np.float32).tobytes()
            if face.mesh is not None and face.embedded
            else None,
            "quality": _plain(face.quality),
            "usable": bool(face.usable),
        }

    @property
    def preference(self) -> tuple[bool, float, float]:
        """Return how good a picture of this face is, for choosing the best (the pipeline's one rule)."""
        return pipeline_faces.preference(self.quality or {}, self.usable)


def best_face(faces: Iterable[DetectedFace]) -> Any:
    """Return the best picture among ``faces`` (None when there is none)."""
    return max(faces, key=lambda face: face.preference, default=None)


def cover_among(faces: Iterable[Any], cover_id: int | None) -> Any:
    """Return the face that stands for a person among their faces: the chosen cover if it is one of them."""
    faces = list(faces)
    chosen = next((face for face in faces if cover_id is not None and face.pk == cover_id), None)
    return chosen if chosen is not None else best_face(faces)


def _plain(value: Any) -> Any:
    """Return a JSON-safe copy of a dict that may hold numpy scalars."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


class Photo(UploadedImage):
    """A friend's photo."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_to, width_field="width", height_field="height")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["room", "sha256"], name="unique_photo_content_per_room")]

    def __str__(self) -> str:
        return self.original_name or f"photo {self.pk}"


class Identity(models.Model):
    """A person: the faces DBSCAN (or the host) grouped together."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="identities")
    name = models.CharField(max_length=80, blank=True)
    hidden = models.BooleanField(default=False)
    # The host's choice of picture for this person; it wins over the best face while it is still theirs.
    cover = models.ForeignKey("Face", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or f"Person {self.pk}"

    def cover_face(self) -> "Face | None":
        """Return the face that stands for this person: the host's choice, else their best picture."""
        return cover_among(self.faces.filter(ignored=False), self.cover_id)


class KeptApart(models.Model):
    """The host's answer "these are two people" to a merge suggestion: the pair is never suggested again."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="kept_apart")
    # Stored with first.pk < second.pk, so a pair has one row whichever way it was asked.
    first = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Identity, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="one_answer_per_pair")]

    def __str__(self) -> str:
        return f"{self.first_id} and {self.second_id} are two people"


class Face(DetectedFace):
    """One detected face in a friend's photo."""

    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="faces")
    identity = models.ForeignKey(Identity, on_delete=models.SET_NULL, null=True, blank=True, related_name="faces")
    thumbnail = models.ImageField(upload_to=face_thumb_upload_to, blank=True)
    # Host decisions that re-clustering must respect.
    ignored = models.BooleanField(default=False)  # "not a face / ignore"
    pinned = models.BooleanField(default=False)  # moved by hand: keep its identity
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["photo_id", "left"]

    def __str__(self) -> str:
        return f"face {self.pk} in photo {self.photo_id}"


class PeopleEdit(models.Model):
    """One edit of a room's people the host can undo: a merge, or a face moved to another person.

    `changes` records what the edit changed (names, flags, which face belonged to whom), so undoing it
    restores exactly that, under the room's lock, and leaves alone whatever changed since.
    """

    class Kind(models.TextChoices):
        MERGE = "merge", "Merge"
        MOVE = "move", "Move a face"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="people_edits")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    identity = models.ForeignKey(Identity, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    changes = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} in room {self.room_id}"
