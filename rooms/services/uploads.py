"""Uploaded pictures of any kind: validate, re-encode, de-duplicate, store, and queue their processing."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from crowdswap.jobs.engine import enqueue
from crowdswap.jobs.kinds import Kind, Progress
from crowdswap.jobs.models import Job
from rooms.models import ProcessingStatus, Room
from swaps.pipeline import images


class UploadedFileLike(Protocol):
    name: str | None
    size: int | None

    def read(self, size: int = -1) -> bytes: ...


@dataclass
class UploadOutcome:
    """What happened to one uploaded file."""

    name: str
    status: str  # "added", "duplicate" or "rejected"
    photo: Any = None  # the stored (or already existing) row
    error: str = ""
    code: str = ""


@dataclass
class UploadReport:
    outcomes: list[UploadOutcome] = field(default_factory=list)

    @property
    def added(self) -> list[UploadOutcome]:
        return [o for o in self.outcomes if o.status == "added"]

    @property
    def duplicates(self) -> list[UploadOutcome]:
        return [o for o in self.outcomes if o.status == "duplicate"]

    @property
    def rejected(self) -> list[UploadOutcome]:
        return [o for o in self.outcomes if o.status == "rejected"]


@dataclass
class PreparedImage:
    name: str
    sha256: str
    jpeg: bytes
    width: int
    height: int


class QuotaError(images.ImageError):
    """An upload refused because the user or the room reached a quota (settings MAX_*)."""

    code = "quota"


_decode_slots_lock = threading.Lock()
_decode_slots: dict[int, threading.BoundedSemaphore] = {}


def decode_slots() -> threading.BoundedSemaphore:
    """Return the semaphore that bounds how many pictures this process decodes at once."""
    size = max(1, int(settings.UPLOAD_DECODE_CONCURRENCY))
    with _decode_slots_lock:
        if size not in _decode_slots:
            _decode_slots[size] = threading.BoundedSemaphore(size)
        return _decode_slots[size]


def _read_upload(upload: UploadedFileLike, max_bytes: int) -> bytes:
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise images.TooLargeError(images.too_large_message(size, max_bytes))
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(max_bytes + 1)


def prepare_image(upload: UploadedFileLike, *, max_side: int) -> PreparedImage:
    """Validate an upload and return its re-encoded, metadata-free JPEG; raise images.ImageError."""
    max_bytes = settings.MAX_UPLOAD_BYTES
    raw = _read_upload(upload, max_bytes)
    # Decoding is where an upload costs memory: a few at a time per process, each at the size it is kept at.
    with decode_slots():
        rgb = images.load_image(raw, max_bytes=max_bytes, max_pixels=settings.MAX_IMAGE_PIXELS, max_side=max_side)
        rgb = images.shrink(rgb, max_side)
    return PreparedImage(
        name=(getattr(upload, "name", "") or "photo")[:255],
        sha256=hashlib.sha256(raw).hexdigest(),
        jpeg=images.encode_jpeg(rgb, quality=90),
        width=int(rgb.shape[1]),
        height=int(rgb.shape[0]),
    )


def image_error_message(error: Exception) -> tuple[str, str]:
    """Return (code, human message) for an images.ImageError."""
    message = str(error).strip() or "This file could not be read as a photo."
    message = message[0].upper() + message[1:]
    if not message.endswith((".", "!", "?")):
        message += "."
    return getattr(error, "code", "not_an_image"), message


def read_stored_rgb(file_field: Any) -> np.ndarray:
    """Decode a stored image (already validated and re-encoded at upload)."""
    with file_field.storage.open(file_field.name, "rb") as handle:
        raw = handle.read()
    return images.load_image(raw, max_bytes=max(len(raw), 1), max_pixels=settings.MAX_IMAGE_PIXELS)


def _store_new(model: type, *, room: Room, prepared: PreparedImage, kind: Kind, payload_key: str) -> Any:
    """Store a prepared image, its row and its job together; return the row, or None when the content exists."""
    row = model(room=room, original_name=prepared.name, sha256=prepared.sha256)
    row.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(prepared.jpeg), save=False)
    # Set after saving the file: the field resets its dimension fields when a file is assigned.
    row.width, row.height = prepared.width, prepared.height
    try:
        with transaction.atomic():
            row.save()
            row.job = enqueue(
                kind=kind, payload={payload_key: row.pk}, owner_id=room.owner_id, group_name=room.group_name
            )
            row.save(update_fields=["job"])
    except IntegrityError:
        row.image.storage.delete(row.image.name)
        if model.objects.filter(room=room, sha256=prepared.sha256).exists():
            # Another request stored the same content first: keep theirs.
            return None
        raise
    except BaseException:
        row.image.storage.delete(row.image.name)
        raise
    return row


def _check_room_has_space(model: type, room: Room) -> None:
    limit = settings.MAX_PHOTOS_PER_ROOM
    if model.objects.filter(room=room).count() >= limit:
        what = model._meta.verbose_name_plural
        raise QuotaError(f"this room already holds {limit} {what}, the most a room can hold; delete some to add others")


def _count_upload_this_hour(owner_id: int) -> None:
    """Count one uploaded file against the owner's hourly quota; refuse it once the quota is used up."""
    limit = settings.MAX_UPLOADS_PER_HOUR
    hour = int(time.time() // 3600)
    key = f"upload-quota:{owner_id}:{hour}"
    try:
        cache.add(key, 0, timeout=3600)
        count = cache.incr(key)
    except Exception:  # the quota is a guard, not a dependency: without the cache, uploads go on
        return
    if count > limit:
        minutes = max(1, round((hour + 1) * 60 - time.time() / 60))
        raise QuotaError(
            f"you have uploaded {limit} photos this hour, the most allowed; try again in {minutes} minutes"
        )


def add_images(
    *, model: type, room: Room, files: Iterable[UploadedFileLike], kind: Kind, payload_key: str, max_side: int
) -> UploadReport:
    """Validate, dedupe, store and enqueue processing for each file; one outcome per file."""
    report = UploadReport()
    seen: set[str] = set()
    for upload in files:
        name = (getattr(upload, "name", "") or "photo")[:255]
        try:
            # Quotas before any decoding: a refused file costs nothing.
            _check_room_has_space(model, room)
            _count_upload_this_hour(room.owner_id)
            prepared = prepare_image(upload, max_side=max_side)
        except images.ImageError as error:
            code, message = image_error_message(error)
            report.outcomes.append(UploadOutcome(name=name, status="rejected", error=message, code=code))
            continue
        existing = model.objects.filter(room=room, sha256=prepared.sha256).first()
        row = None
        if existing is None and prepared.sha256 not in seen:
            row = _store_new(model, room=room, prepared=prepared, kind=kind, payload_key=payload_key)
        if row is None:
            existing = existing or model.objects.filter(room=room, sha256=prepared.sha256).first()
            report.outcomes.append(
                UploadOutcome(name=name, status="duplicate", photo=existing, error="This photo was already uploaded.")
            )
            continue
        seen.add(prepared.sha256)
        report.outcomes.append(UploadOutcome(name=name, status="added", photo=row))
    return report


def processing_kind(
    *, name: str, label: str, model: type, payload_key: str, run: Callable[[Job, Progress], dict], failed_message: str
) -> Kind:
    """Return the job kind that processes one uploaded picture, keeping the picture's status in step with it.

    After a final failure the picture shows ``failed_message`` (or the handler's own reason) and its page
    offers Retry; a retry shows it as queued again.
    """

    def failed(job: Job, reason: str | None) -> None:
        model.objects.filter(pk=job.payload.get(payload_key)).update(
            status=ProcessingStatus.FAILED, error=reason or failed_message
        )

    def retried(job: Job) -> None:
        model.objects.filter(pk=job.payload.get(payload_key)).update(status=ProcessingStatus.QUEUED, error="")

    return Kind(name=name, label=label, run=run, failed=failed, retried=retried)
