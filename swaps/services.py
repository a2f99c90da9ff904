"""Crowd photos: upload, face detection in the worker, and how many friends a crowd can host."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q

from rooms.models import Face, Identity, ProcessingStatus, Room
from rooms.services import (
    ServiceError,
    UploadedFileLike,
    UploadReport,
    _delete_files,
    _lock_room,
    _plain,
    add_images,
    pipeline_face,
    read_stored_rgb,
)
from swaps.models import CrowdFace, CrowdPhoto, Swap, new_share_token

if TYPE_CHECKING:
    from swaps.models import Job

# Crowd faces are small: keep more pixels than for friends' photos so distant faces survive.
CROWD_MAX_SIDE = 4096


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
    found = pipeline_faces.detect_faces(rgb, min_face_px=pipeline_faces.HOST_MIN_SIZE_PX)
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
            usable=pipeline_faces.can_host(f.quality),
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


# ---------------------------------------------------------------- swaps

PREVIEW_SIZE = (1200, 630)  # Open Graph's recommended link-preview size
RESULT_JPEG_QUALITY = 90


def swappable_identities(room: Room):
    """Return the room's visible identities that have at least one usable face, oldest first."""
    usable_ids = {
        face.identity_id
        for face in Face.objects.filter(photo__room=room, ignored=False, identity__isnull=False).only(
            "identity_id", "quality"
        )
        if (face.quality or {}).get("usable")
    }
    return Identity.objects.filter(room=room, hidden=False, pk__in=usable_ids).order_by("created_at", "id")


def start_swap(*, room: Room, crowd_photo: CrowdPhoto, identities: Iterable[Identity] | None = None) -> Swap:
    """Create the next swap version of a room and queue the job that makes it.

    Default: every visible identity with a usable face, as many as the crowd's hostable faces allow.
    """
    from swaps.jobs import enqueue

    if crowd_photo.room_id != room.pk:
        raise ServiceError("That crowd photo is not in this room.")
    if crowd_photo.status != ProcessingStatus.DONE:
        raise ServiceError("Wait until the faces in this crowd photo have been found, then start the swap.")
    hosts = crowd_photo.faces.filter(usable=True).count()
    if hosts == 0:
        raise ServiceError(
            "No face in this crowd photo is large and front-facing enough to take a friend. Choose another crowd."
        )
    eligible = list(swappable_identities(room))
    if identities is None:
        chosen = eligible[:hosts]
    else:
        eligible_ids = {i.pk for i in eligible}
        chosen = list({i.pk: i for i in identities}.values())
        refused = [i.display_name for i in chosen if i.pk not in eligible_ids]
        if refused:
            raise ServiceError(
                f"{', '.join(refused)} cannot be hidden: hidden people and people without a clear face are left out."
            )
        if len(chosen) > hosts:
            raise ServiceError(
                f"This crowd has {hosts} face{'s' if hosts != 1 else ''} that can host a friend, "
                f"but you chose {len(chosen)} people. Choose fewer people or another crowd."
            )
    if not chosen:
        raise ServiceError("Choose at least one person to hide. Upload friends' photos first if there is nobody yet.")
    with transaction.atomic():
        _lock_room(room.pk)
        last = Swap.objects.filter(room=room).order_by("-version").values_list("version", flat=True).first() or 0
        swap = Swap.objects.create(
            room=room, crowd_photo=crowd_photo, version=last + 1, identity_ids=[i.pk for i in chosen]
        )
        swap.job = enqueue(kind="swap", room=room, payload={"swap_id": swap.pk})
        swap.save(update_fields=["job"])
    return swap


def preview_jpeg(rgb: np.ndarray, size: tuple[int, int] = PREVIEW_SIZE) -> bytes:
    """Return the image cropped to fill ``size`` (centre crop, no bars) as a JPEG."""
    import cv2

    from swaps.pipeline import images

    target_w, target_h = size
    height, width = rgb.shape[:2]
    scale = max(target_w / width, target_h / height)
    resized = cv2.resize(
        rgb,
        (max(target_w, round(width * scale)), max(target_h, round(height * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC,
    )
    x0 = (resized.shape[1] - target_w) // 2
    y0 = (resized.shape[0] - target_h) // 2
    return images.encode_jpeg(np.ascontiguousarray(resized[y0 : y0 + target_h, x0 : x0 + target_w]), quality=85)


def _fail_swap(swap_id: int, message: str) -> None:
    from swaps.jobs import JobError

    Swap.objects.filter(pk=swap_id).update(status=Swap.Status.FAILED, error=message)
    raise JobError(message)


def run_swap_job(job: Job, progress: Callable[[int, str], None]) -> dict:
    """Match the chosen friends to crowd faces, swap them in, store the result, preview and answer key."""
    try:
        return _run_swap(job, progress)
    except Exception as exc:
        from django.conf import settings

        from swaps.jobs import JobError

        if isinstance(exc, JobError) or job.attempts >= settings.JOB_MAX_ATTEMPTS:
            Swap.objects.filter(pk=job.payload.get("swap_id")).exclude(status=Swap.Status.FAILED).update(
                status=Swap.Status.FAILED, error=str(exc) or "The swap failed. Start it again."
            )
        raise


def _run_swap(job: Job, progress: Callable[[int, str], None]) -> dict:
    from swaps.pipeline import images, matching
    from swaps.pipeline import swap as pipeline_swap

    swap_id = job.payload.get("swap_id")
    swap = Swap.objects.filter(pk=swap_id).select_related("crowd_photo").first()
    if swap is None:
        return {"swap_id": swap_id, "skipped": "The swap was discarded before it ran."}
    crowd = swap.crowd_photo
    if crowd is None:
        _fail_swap(swap.pk, "The crowd photo was deleted. Upload a crowd photo and start a new swap.")
    Swap.objects.filter(pk=swap.pk).update(status=Swap.Status.RUNNING, error="")
    progress(5, "Reading photos")
    targets_rows = list(crowd.faces.filter(usable=True))
    if not targets_rows:
        _fail_swap(swap.pk, "No face in this crowd photo can host a friend. Choose another crowd.")
    identities = {i.pk: i for i in Identity.objects.filter(room_id=swap.room_id, pk__in=swap.identity_ids)}
    faces_by_identity: dict[int, list[Face]] = {}
    for face in Face.objects.filter(identity_id__in=list(identities), ignored=False).select_related("photo"):
        faces_by_identity.setdefault(face.identity_id, []).append(face)
    # Keep the host's order; people deleted since the swap was started are left out.
    chosen = [pk for pk in swap.identity_ids if pk in identities and faces_by_identity.get(pk)]
    if not chosen:
        _fail_swap(swap.pk, "None of the chosen people has a face any more. Choose people and start again.")
    crowd_rgb = read_stored_rgb(crowd.image)
    height, width = crowd_rgb.shape[:2]
    targets = [pipeline_face(row) for row in targets_rows]
    progress(15, "Matching friends to crowd faces")
    embeddings = {pk: np.stack([f.embedding_array() for f in faces_by_identity[pk]]) for pk in chosen}
    matches = matching.assign(embeddings, targets, image_size=(width, height))

    photo_cache: dict[int, np.ndarray] = {}
    pairs = []
    answer_key = []
    for match in matches:
        rows = faces_by_identity[int(match.identity)]
        target = targets[match.target]
        source_row = rows[pipeline_swap.best_source([pipeline_face(r) for r in rows], target)]
        if source_row.photo_id not in photo_cache:
            photo_cache[source_row.photo_id] = read_stored_rgb(source_row.photo.image)
        pairs.append((photo_cache[source_row.photo_id], pipeline_face(source_row), target))
        box = pipeline_swap.answer_box(target, (width, height))
        answer_key.append({"identity": int(match.identity), "box": [round(float(v), 5) for v in box]})

    def swap_progress(fraction: float, stage: str) -> None:
        progress(20 + int(65 * fraction), stage[:1].upper() + stage[1:])

    result = pipeline_swap.swap_faces(crowd_rgb, pairs, progress=swap_progress)
    progress(90, "Saving the result")
    result_jpeg = images.encode_jpeg(result, quality=RESULT_JPEG_QUALITY)
    preview = preview_jpeg(result)

    swap = Swap.objects.get(pk=swap.pk)
    old_names = [name for name in (swap.image.name, swap.preview.name) if name]
    stem = uuid.uuid4().hex
    swap.image.save(f"{stem}.jpg", ContentFile(result_jpeg), save=False)
    swap.preview.save(f"{stem}-preview.jpg", ContentFile(preview), save=False)
    new_names = [swap.image.name, swap.preview.name]
    with transaction.atomic():
        if not Swap.objects.select_for_update().filter(pk=swap.pk).exists():
            _delete_files(default_storage, new_names)
            return {"swap_id": swap_id, "skipped": "The swap was discarded while it ran."}
        # A re-run replaces the first run's files and key instead of adding to them.
        Swap.objects.filter(pk=swap.pk).update(
            image=swap.image.name,
            preview=swap.preview.name,
            width=width,
            height=height,
            answer_key=answer_key,
            status=Swap.Status.DONE,
            error="",
        )
        transaction.on_commit(lambda: _delete_files(default_storage, old_names))
    # The job's result is shown to the host only, but keep the key out of it all the same.
    return {"swap_id": swap.pk, "hidden": len(answer_key), "version": swap.version}


def publish_swap(*, swap: Swap) -> Swap:
    """Open a finished swap to anyone with its share link."""
    if swap.status != Swap.Status.DONE or not swap.image:
        raise ServiceError("Only a finished swap can be shared. Wait for it to finish, or start a new one.")
    swap.published = True
    swap.save(update_fields=["published"])
    return swap


def unpublish_swap(*, swap: Swap) -> Swap:
    """Close a challenge: its link then says it is closed."""
    swap.published = False
    swap.save(update_fields=["published"])
    return swap


def regenerate_share_token(*, swap: Swap) -> Swap:
    """Give the challenge a new link; the old one stops working."""
    swap.share_token = new_share_token()
    swap.save(update_fields=["share_token"])
    return swap


def discard_swap(*, swap: Swap) -> None:
    """Delete a swap version, its players and its files."""
    names = [name for name in (swap.image.name, swap.preview.name) if name]
    with transaction.atomic():
        swap.delete()
    transaction.on_commit(lambda: _delete_files(default_storage, names))
