"""Rooms, friends' photos, the faces found in them and the identities they cluster into."""

import numpy as np
from django.conf import settings
from django.db import models


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
    landmarks = models.JSONField(default=list)  # 68 [x, y] points in image pixels
    embedding = models.BinaryField()  # 128 float32
    quality = models.JSONField(default=dict)

    class Meta:
        abstract = True

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.width, self.height)

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype=np.float32).astype(np.float64)

    @staticmethod
    def pack_embedding(vector: "np.ndarray") -> bytes:
        return np.asarray(vector, dtype=np.float32).tobytes()


class Photo(UploadedImage):
    """A friend's photo."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField(upload_to=photo_upload_to, width_field="width", height_field="height")

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
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or f"Person {self.pk}"


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


class Player(models.Model):
    """Somebody playing one published swap: signed in, or a guest known by session and nickname."""

    swap = models.ForeignKey("swaps.Swap", on_delete=models.CASCADE, related_name="players")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    nickname = models.CharField(max_length=40)
    session_key = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.IntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    misses = models.PositiveIntegerField(default=0)
    gave_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["-score", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["swap", "user"], condition=models.Q(user__isnull=False), name="one_player_per_user_and_swap"
            ),
            models.UniqueConstraint(
                fields=["swap", "session_key"],
                condition=models.Q(user__isnull=True),
                name="one_guest_per_session_and_swap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.nickname} in swap {self.swap_id}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def seconds_played(self, now=None) -> float:
        from django.utils import timezone

        end = self.finished_at or now or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class Guess(models.Model):
    """One click of a player looking for one hidden friend, as judged by the server."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="guesses")
    identity_id = models.IntegerField()  # plain id: the answer key, not the Identity row, is the truth
    x = models.FloatField()
    y = models.FloatField()
    hit = models.BooleanField()
    points = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{'hit' if self.hit else 'miss'} by player {self.player_id}"
