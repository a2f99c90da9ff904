"""The Job row: a unit of background work and everything known about its progress."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Job(models.Model):
    """A unit of background work. The row is the job; channel messages only nudge workers."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16)  # the name of a registered kinds.Kind
    # Who may read and retry the job, and the Channels group its progress goes to (may be empty).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs", null=True, blank=True
    )
    group_name = models.CharField(max_length=100, blank=True, db_index=True)
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
        indexes = [models.Index(fields=["status", "queued_at"], name="jobs_status_queued_idx")]

    def __str__(self) -> str:
        return f"{self.kind} job {self.pk} ({self.status})"

    @property
    def retryable(self) -> bool:
        """Return whether the owner may queue this job again (only a failed one)."""
        return self.status == self.Status.FAILED
