"""Crowd photos, their faces, and background jobs."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from rooms.models import DetectedFace, Room, UploadedImage


def crowd_upload_to(instance: "CrowdPhoto", filename: str) -> str:
    return f"rooms/{instance.room_id}/crowds/{filename}"


class CrowdPhoto(UploadedImage):
    """A crowd photo friends get swapped into."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="crowd_photos")
    image = models.ImageField(upload_to=crowd_upload_to, width_field="width", height_field="height")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "sha256"], name="unique_crowd_content_per_room")]

    def __str__(self) -> str:
        return self.original_name or f"crowd {self.pk}"


class CrowdFace(DetectedFace):
    """One detected face in a crowd photo: a possible place to hide a friend."""

    crowd_photo = models.ForeignKey(CrowdPhoto, on_delete=models.CASCADE, related_name="faces")
    usable = models.BooleanField(default=True)  # large, frontal and whole enough to host a friend

    class Meta:
        ordering = ["crowd_photo_id", "left"]

    def __str__(self) -> str:
        return f"face at {self.box} in {self.crowd_photo_id}"


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


def swap_upload_to(instance: "Swap", filename: str) -> str:
    # Under the room's prefix, so deleting the room (which walks that prefix) removes every version.
    return f"rooms/{instance.room_id}/swaps/{filename}"


def new_share_token() -> str:
    """Return an unguessable share token for a challenge link."""
    import secrets

    return secrets.token_urlsafe(18)


class Swap(models.Model):
    """One version of friends swapped into a crowd photo: the result, its answer key and its share link."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Swapping"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="swaps")
    # Older versions stay playable when their crowd photo is deleted: the result image is their own.
    crowd_photo = models.ForeignKey(CrowdPhoto, on_delete=models.SET_NULL, null=True, blank=True, related_name="swaps")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="swaps")
    version = models.PositiveIntegerField()
    identity_ids = models.JSONField(default=list)  # the friends the host chose to hide
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    image = models.ImageField(upload_to=swap_upload_to, blank=True, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    preview = models.ImageField(upload_to=swap_upload_to, blank=True)  # 1200x630 for link previews
    # Server-side only until a player finishes: [{"identity": id, "box": [x, y, w, h] as image fractions}].
    answer_key = models.JSONField(default=list, blank=True)
    published = models.BooleanField(default=False)
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "version"], name="unique_swap_version_per_room")]

    def __str__(self) -> str:
        return f"swap v{self.version} in room {self.room_id}"

    @property
    def is_playable(self) -> bool:
        return self.published and self.status == self.Status.DONE and bool(self.image)

    @property
    def leaderboard_group(self) -> str:
        """Name of the public Channels group that receives this challenge's leaderboard."""
        return f"swap-{self.pk}-leaderboard"

    def answer_for(self, identity_id: int) -> list[float] | None:
        for entry in self.answer_key:
            if int(entry["identity"]) == int(identity_id):
                return [float(v) for v in entry["box"]]
        return None

    def hidden_identity_ids(self) -> list[int]:
        return [int(entry["identity"]) for entry in self.answer_key]
