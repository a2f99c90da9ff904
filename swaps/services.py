"""Crowd photos: upload, face detection in the worker, and how many friends a crowd can host."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q

from rooms.models import Identity, ProcessingStatus, Room
from rooms.services import (
    UploadedFileLike,
    UploadReport,
    _delete_files,
    _plain,
    add_images,
    read_stored_rgb,
)
from swaps.models import CrowdFace, CrowdPhoto

if TYPE_CHECKING:
    from swaps.models import Job

# Crowd faces are small: keep more pixels than for friends' photos so distant faces survive.
CROWD_MAX_SIDE = 4096
# Crowd faces down to this size are found and can host a friend: a stadium's front rows are 25-40 px
# faces, and the README's "30 front faces a person would expect" are that small.
CROWD_MIN_FACE_PX = 24
# Fully inside the picture: a swap needs the whole face outline to blend into.
CROWD_MIN_INSIDE = 0.9


def can_host_friend(quality: dict) -> bool:
    """Return whether a crowd face is big, frontal and whole enough to take a friend's face.

    The pipeline's own `usable` flag is stricter (sharp, 60+ px) because it chooses *source* faces;
    a target only needs landmarks good enough to warp onto, and the friend brings the detail.
    """
    from swaps.pipeline import faces as pipeline_faces

    return (
        float(quality.get("size", 0.0)) >= CROWD_MIN_FACE_PX
        and float(quality.get("frontalness", 0.0)) >= pipeline_faces.USABLE_MIN_FRONTALNESS
        and float(quality.get("inside", 0.0)) >= CROWD_MIN_INSIDE
    )


def add_crowd_photos(*, room: Room, files: Iterable[UploadedFileLike]) -> UploadReport:
    """Store crowd photos that pass validation and queue each new one for face detection."""
    return add_images(
        model=CrowdPhoto, room=room, files=files, kind="crowd", payload_key="crowd_photo_id", max_side=CROWD_MAX_SIDE
    )


def add_crowd_photo(*, room: Room, file: UploadedFileLike) -> UploadReport:
    """Store one crowd photo (see add_crowd_photos)."""
    return add_crowd_photos(room=room, files=[file])


def process_crowd_job(job: Job, progress: Callable[[int, str], None]) -> dict:
    """Detect every face in a crowd photo and store them, flagging those that can host a friend."""
    from swaps.pipeline import faces as pipeline_faces

    crowd_id = job.payload.get("crowd_photo_id")
    crowd = CrowdPhoto.objects.filter(pk=crowd_id).first()
    if crowd is None:
        return {"crowd_photo_id": crowd_id, "skipped": "The crowd photo was deleted before it was processed."}
    CrowdPhoto.objects.filter(pk=crowd.pk).update(status=ProcessingStatus.PROCESSING, error="")
    progress(10, "Reading crowd photo")
    rgb = read_stored_rgb(crowd.image)
    progress(20, "Finding faces")
    found = pipeline_faces.detect_faces(rgb, min_face_px=CROWD_MIN_FACE_PX)
    progress(80, "Saving faces")
    rows = [
        CrowdFace(
            crowd_photo=crowd,
            left=int(f.box[0]),
            top=int(f.box[1]),
            width=int(f.box[2]),
            height=int(f.box[3]),
            landmarks=np.asarray(f.landmarks).round(1).tolist(),
            embedding=np.asarray(f.embedding, dtype=np.float32).tobytes(),
            quality=_plain(f.quality),
            usable=can_host_friend(f.quality),
        )
        for f in found
    ]
    with transaction.atomic():
        if not CrowdPhoto.objects.select_for_update().filter(pk=crowd.pk).exists():
            return {"crowd_photo_id": crowd_id, "skipped": "The crowd photo was deleted while it was processed."}
        # A re-run replaces the first run's faces instead of adding to them.
        CrowdFace.objects.filter(crowd_photo=crowd).delete()
        CrowdFace.objects.bulk_create(rows)
        if rows:
            CrowdPhoto.objects.filter(pk=crowd.pk).update(status=ProcessingStatus.DONE, error="")
        else:
            CrowdPhoto.objects.filter(pk=crowd.pk).update(
                status=ProcessingStatus.FAILED,
                error="No face found in this crowd photo. Choose a photo with people facing the camera.",
            )
    usable = sum(1 for r in rows if r.usable)
    return {"crowd_photo_id": crowd.pk, "faces": len(rows), "usable": usable}


def delete_crowd_photo(*, crowd_photo: CrowdPhoto) -> None:
    """Delete a crowd photo, its faces and its file."""
    name = crowd_photo.image.name
    with transaction.atomic():
        crowd_photo.delete()
    transaction.on_commit(lambda: _delete_files(default_storage, [name]))


@dataclass(frozen=True)
class CrowdSummary:
    faces: int
    usable: int
    people: int  # visible identities that could be hidden
    message: str

    @property
    def enough(self) -> bool:
        return self.usable >= self.people


def visible_people(room: Room) -> int:
    """Return how many identities could be swapped into a crowd (not hidden, with faces)."""
    return (
        Identity.objects.filter(room=room, hidden=False)
        .annotate(n=Count("faces", filter=Q(faces__ignored=False)))
        .filter(n__gt=0)
        .count()
    )


def crowd_summary(*, crowd_photo: CrowdPhoto, people: int | None = None) -> CrowdSummary:
    """Say how many faces in the crowd can host a friend, and explain when that is fewer than the friends."""
    if people is None:
        people = visible_people(crowd_photo.room)
    if crowd_photo.status in (ProcessingStatus.QUEUED, ProcessingStatus.PROCESSING):
        return CrowdSummary(0, 0, people, "Looking for faces in this crowd…")
    if crowd_photo.status == ProcessingStatus.FAILED:
        return CrowdSummary(0, 0, people, crowd_photo.error or "This crowd photo could not be processed.")
    faces = crowd_photo.faces.count()
    usable = crowd_photo.faces.filter(usable=True).count()
    plural = "face" if usable == 1 else "faces"
    message = f"{usable} {plural} can host a friend"
    unusable = faces - usable
    if unusable:
        message += f" ({unusable} more are too small, turned away or cut off to take a swap)"
    message += "."
    if people and usable < people:
        message += (
            f" You have {people} visible people, so only {usable} of them can be hidden in this crowd: "
            "hide some people or choose a crowd with more large, front-facing faces."
        )
    elif people:
        message += f" Enough for all {people} visible people."
    return CrowdSummary(faces=faces, usable=usable, people=people, message=message)


def normalised_box(face: CrowdFace, width: int, height: int) -> list[float]:
    """Return a face box as fractions of the image, for drawing over any displayed size."""
    if not width or not height:
        return [0.0, 0.0, 0.0, 0.0]
    return [
        round(face.left / width, 5),
        round(face.top / height, 5),
        round(face.width / width, 5),
        round(face.height / height, 5),
    ]
