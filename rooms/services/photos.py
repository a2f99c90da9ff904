"""Friends' photos: upload, delete, and the photo job that finds their faces and regroups the room."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from crowdswap.jobs.kinds import Progress
from crowdswap.jobs.models import Job
from crowdswap.lib.files import delete_files
from rooms.models import Face, Photo, ProcessingStatus, Room
from rooms.services.faces import find_faces
from rooms.services.identities import lock_room, recluster_room
from rooms.services.uploads import UploadedFileLike, UploadReport, add_images, processing_kind, read_stored_rgb
from swaps.pipeline import images

# Friends' photos only need enough pixels for a 150 px face chip; larger copies cost storage and time.
PHOTO_MAX_SIDE = 2048
THUMB_SIDE = 160
# A thumbnail shows some hair and chin around the detector's tight box.
THUMB_MARGIN = 0.35
NO_FACE_MESSAGE = "No face found in this photo. Upload a photo where a face is clearly visible."
FAILED_MESSAGE = "We could not process this photo. Retry, or delete it and upload another photo."


def add_photos(*, room: Room, files: Iterable[UploadedFileLike]) -> UploadReport:
    """Store friends' photos that pass validation and queue each new one for face detection."""
    return add_images(
        model=Photo, room=room, files=files, kind=PHOTO_JOB, payload_key="photo_id", max_side=PHOTO_MAX_SIDE
    )


def delete_photo(*, photo: Photo) -> None:
    """Delete one friend's photo, its faces and files, then re-cluster the room."""
    room = photo.room
    names = [photo.image.name] + [n for n in photo.faces.values_list("thumbnail", flat=True) if n]
    with transaction.atomic():
        photo.delete()
        recluster_room(room=room)
    transaction.on_commit(lambda: delete_files(default_storage, names))


def face_thumbnail(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """Return a small square JPEG of a face with some margin around the detector's box."""
    height, width = rgb.shape[:2]
    left, top, w, h = box
    side = int(max(w, h) * (1 + 2 * THUMB_MARGIN))
    cx, cy = left + w / 2, top + h / 2
    x0 = int(max(0, min(width - 1, cx - side / 2)))
    y0 = int(max(0, min(height - 1, cy - side / 2)))
    x1 = int(max(x0 + 1, min(width, cx + side / 2)))
    y1 = int(max(y0 + 1, min(height, cy + side / 2)))
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return images.encode_jpeg(images.shrink(crop, THUMB_SIDE), quality=85)


def process_photo(job: Job, progress: Progress) -> dict:
    """Detect the faces in one friend's photo, store them with thumbnails and re-cluster the room."""
    photo_id = job.payload.get("photo_id")
    photo = Photo.objects.filter(pk=photo_id).select_related("room").first()
    if photo is None:
        return {"photo_id": photo_id, "skipped": "The photo was deleted before it was processed."}
    Photo.objects.filter(pk=photo.pk).update(status=ProcessingStatus.PROCESSING, error="")
    progress(10, "Reading photo")
    rgb = read_stored_rgb(photo.image)
    progress(25, "Finding faces")
    found = find_faces(rgb)
    progress(70, "Saving faces")

    thumb_names: list[str] = []
    new_faces: list[Face] = []
    for detected in found:
        face = Face(photo=photo, **Face.fields_from_pipeline(detected))
        face.thumbnail.save(f"{uuid.uuid4().hex}.jpg", ContentFile(face_thumbnail(rgb, face.box)), save=False)
        thumb_names.append(face.thumbnail.name)
        new_faces.append(face)

    try:
        with transaction.atomic():
            lock_room(photo.room_id)
            if not Photo.objects.select_for_update().filter(pk=photo.pk).exists():
                raise Photo.DoesNotExist
            # A re-run after a crash replaces what the first run stored instead of adding to it.
            old_thumbs = [n for n in Face.objects.filter(photo=photo).values_list("thumbnail", flat=True) if n]
            Face.objects.filter(photo=photo).delete()
            Face.objects.bulk_create(new_faces)
            if new_faces:
                Photo.objects.filter(pk=photo.pk).update(status=ProcessingStatus.DONE, error="")
            else:
                Photo.objects.filter(pk=photo.pk).update(status=ProcessingStatus.FAILED, error=NO_FACE_MESSAGE)
            progress(85, "Grouping people")
            recluster_room(room=photo.room)
            transaction.on_commit(lambda: delete_files(default_storage, old_thumbs))
    except Photo.DoesNotExist:
        delete_files(default_storage, thumb_names)
        return {"photo_id": photo_id, "skipped": "The photo was deleted while it was processed."}
    except BaseException:
        delete_files(default_storage, thumb_names)
        raise
    return {"photo_id": photo.pk, "faces": len(new_faces), **({} if new_faces else {"error": NO_FACE_MESSAGE})}


PHOTO_JOB = processing_kind(
    name="photo",
    label="Find the faces in a friend's photo",
    model=Photo,
    payload_key="photo_id",
    run=process_photo,
    failed_message=FAILED_MESSAGE,
)
