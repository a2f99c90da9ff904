"""Crowd photos, their faces, and background jobs."""

import numpy as np
from django.conf import settings
from django.db import models
from django.utils import timezone

from rooms.models import ProcessingStatus, Room


def crowd_upload_to(instance: "CrowdPhoto", filename: str) -> str:
    return f"rooms/{instance.room_id}/crowds/{filename}"


class CrowdPhoto(models.Model):
    """A crowd photo friends get swapped into."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="crowd_photos")
    image = models.ImageField(upload_to=crowd_upload_to, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    original_name = models.CharField(max_length=255, blank=True)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=ProcessingStatus.choices, default=ProcessingStatus.QUEUED)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "sha256"], name="unique_crowd_content_per_room")]

    def __str__(self) -> str:
        return self.original_name or f"crowd {self.pk}"


class CrowdFace(models.Model):
    """One detected face in a crowd photo: a possible place to hide a friend."""

    crowd_photo = models.ForeignKey(CrowdPhoto, on_delete=models.CASCADE, related_name="faces")
    left = models.IntegerField()
    top = models.IntegerField()
    width = models.IntegerField()
    height = models.IntegerField()
    landmarks = models.JSONField(default=list)
    embedding = models.BinaryField()
    quality = models.JSONField(default=dict)
    usable = models.BooleanField(default=True)  # large, frontal and whole enough to host a friend

    class Meta:
        ordering = ["crowd_photo_id", "left"]

    def __str__(self) -> str:
        return f"face at {self.box} in {self.crowd_photo_id}"

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.width, self.height)

    def embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.embedding), dtype=np.float32).astype(np.float64)


class Job(models.Model):
    """A unit of background work. The row is the job; channel messages only nudge workers."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Process a friend's photo"
        CROWD = "crowd", "Process a crowd photo"
        SWAP = "swap", "Swap friends into a crowd"
        PING = "ping", "Health check"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="jobs", null=True, blank=True)
    payload = models.JSONField(default=dict)  # inputs, e.g. {"photo_id": 3}
    result = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=80, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    worker_id = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "queued_at"])]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def max_attempts(self) -> int:
        return settings.JOB_MAX_ATTEMPTS
