"""Crowd photos: upload, the crowd job that finds their faces, how many friends a crowd can host, lookalikes by fit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q

from crowdswap.jobs.kinds import Progress
from crowdswap.jobs.models import Job
from crowdswap.lib.files import delete_files
from rooms.models import Identity, ProcessingStatus, Room
from rooms.services.faces import find_faces
from rooms.services.uploads import UploadedFileLike, UploadReport, add_images, processing_kind, read_stored_rgb
from swaps.models import CrowdFace, CrowdPhoto, Swap
from swaps.pipeline import faces as pipeline_faces
from swaps.pipeline.fit import Fit
from swaps.services import placement

# Crowd faces are small: keep more pixels than for friends' photos so distant faces survive.
CROWD_MAX_SIDE = 4096
LOOKALIKES_PER_IDENTITY = 5
NO_FACE_MESSAGE = "No face found in this crowd photo. Choose a photo with people facing the camera."
FAILED_MESSAGE = "We could not find the faces in this crowd photo. Retry, or delete it and upload another one."


def add_crowd_photos(*, room: Room, files: Iterable[UploadedFileLike]) -> UploadReport:
    """Store crowd photos that pass validation and queue each new one for face detection."""
    return add_images(
        model=CrowdPhoto, room=room, files=files, kind=CROWD_JOB, payload_key="crowd_photo_id", max_side=CROWD_MAX_SIDE
    )


def process_crowd(job: Job, progress: Progress) -> dict:
    """Detect every face in a crowd photo and store them, flagging those that can host a friend."""
    crowd_id = job.payload.get("crowd_photo_id")
    crowd = CrowdPhoto.objects.filter(pk=crowd_id).first()
    if crowd is None:
        return {"crowd_photo_id": crowd_id, "skipped": "The crowd photo was deleted before it was processed."}
    CrowdPhoto.objects.filter(pk=crowd.pk).update(status=ProcessingStatus.PROCESSING, error="")
    progress(10, "Reading crowd photo")
    rgb = read_stored_rgb(crowd.image)
    progress(20, "Finding faces")
    # Every face down to a few pixels is kept as a box (the picture, counts, decoys); only faces that can host
    # a friend or be a lookalike are embedded, which is most of the cost.
    found = find_faces(rgb, min_face_px=pipeline_faces.BOX_MIN_SIZE_PX, embed=pipeline_faces.worth_embedding)
    progress(80, "Saving faces")
    rows = [
        CrowdFace(
            crowd_photo=crowd,
            can_host=f.embedded and pipeline_faces.can_host(f.quality),
            **CrowdFace.fields_from_pipeline(f),
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
            CrowdPhoto.objects.filter(pk=crowd.pk).update(status=ProcessingStatus.FAILED, error=NO_FACE_MESSAGE)
    hosts = sum(1 for r in rows if r.can_host)
    return {"crowd_photo_id": crowd.pk, "faces": len(rows), "usable": hosts}


CROWD_JOB = processing_kind(
    name="crowd",
    label="Find the faces in a crowd photo",
    model=CrowdPhoto,
    payload_key="crowd_photo_id",
    run=process_crowd,
    failed_message=FAILED_MESSAGE,
)


def delete_crowd_photo(*, crowd_photo: CrowdPhoto) -> None:
    """Delete a crowd photo, its faces and its file."""
    name = crowd_photo.image.name
    with transaction.atomic():
        crowd_photo.delete()
    transaction.on_commit(lambda: delete_files(default_storage, [name]))


@dataclass(frozen=True)
class CrowdSummary:
    faces: int
    usable: int  # faces that can host a friend
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
    hosts = crowd_photo.faces.filter(can_host=True).count()
    plural = "face" if hosts == 1 else "faces"
    message = f"{hosts} {plural} can host a friend"
    unusable = faces - hosts
    if unusable:
        message += f" ({unusable} more are too small, turned away or cut off to take a swap)"
    message += "."
    if people and hosts < people:
        message += (
            f" You have {people} visible people, so only {hosts} of them can be hidden in this crowd: "
            "hide some people or choose a crowd with more large, front-facing faces."
        )
    elif people:
        message += f" Enough for all {people} visible people."
    return CrowdSummary(faces=faces, usable=hosts, people=people, message=message)


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


def latest_crowd_photo(room: Room) -> CrowdPhoto | None:
    """Return the room's newest crowd photo whose faces have been found."""
    return CrowdPhoto.objects.filter(room=room, status=ProcessingStatus.DONE).order_by("-created_at", "-id").first()


@dataclass(frozen=True)
class Lookalikes:
    """A person's lookalikes in a crowd: the faces they could be placed on, best fit first, or why there are none."""

    faces: list[tuple[CrowdFace, Fit]]
    why_none: str = ""


def lookalikes(
    *, room: Room, k: int = LOOKALIKES_PER_IDENTITY, difficulty: str = Swap.Difficulty.MEDIUM
) -> dict[int, Lookalikes]:
    """Return, per person with faces, the k faces of the latest crowd photo they fit best (only faces they may be
    placed on at ``difficulty``: another gender or skin tone, or too small a face, is no lookalike)."""
    crowd = latest_crowd_photo(room)
    if crowd is None:
        return {}
    people = list(Identity.objects.filter(room=room).order_by("created_at", "id"))
    inputs = placement.placement_inputs(crowd, [identity.pk for identity in people])
    if not inputs.hosts:
        return {}
    result: dict[int, Lookalikes] = {}
    for row in placement.friend_fits(inputs, [p for p in people if p.pk in inputs.friends], difficulty):
        fitting = sorted(
            ((face, row.on[face.pk]) for face in inputs.hosts if row.on[face.pk].allowed),
            key=lambda pair: -pair[1].score,
        )
        why = "" if fitting else "; ".join(placement.reasons_in_words(row.best))
        result[row.identity.pk] = Lookalikes(faces=fitting[:k], why_none=why)
    return result
