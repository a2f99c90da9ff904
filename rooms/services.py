"""Rooms, friends' photos and identities: every write the HTML views, the API and the worker share."""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from rooms.models import Face, Identity, Photo, ProcessingStatus, Room

if TYPE_CHECKING:
    from swaps.models import Job

logger = logging.getLogger(__name__)

# Friends' photos only need enough pixels for a 150 px face chip; larger copies cost storage and time.
PHOTO_MAX_SIDE = 2048
THUMB_SIDE = 160
# A thumbnail shows some hair and chin around the detector's tight box.
THUMB_MARGIN = 0.35
NO_FACE_MESSAGE = "No face found in this photo. Upload a photo where a face is clearly visible."
PROCESSING_FAILED_MESSAGE = "We could not process this photo. Delete it and upload it again, or try another photo."
LOOKALIKES_PER_IDENTITY = 5


class ServiceError(Exception):
    """A request the service refuses, with a message a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


# ---------------------------------------------------------------- rooms


def create_room(*, owner: Any, title: str, description: str = "") -> Room:
    """Create a challenge room owned by this user."""
    title = title.strip()
    if not title:
        raise ServiceError("Give the room a title.")
    return Room.objects.create(owner=owner, title=title[:120], description=description.strip())


def update_room(*, room: Room, title: str | None = None, description: str | None = None) -> Room:
    """Rename a room or change its description."""
    if title is not None:
        title = title.strip()
        if not title:
            raise ServiceError("Give the room a title.")
        room.title = title[:120]
    if description is not None:
        room.description = description.strip()
    room.save()
    return room


def room_file_names(room: Room) -> set[str]:
    """Return the storage names of every file the room's rows point at."""
    from swaps.models import CrowdPhoto

    names: set[str] = set()
    names.update(n for n in Photo.objects.filter(room=room).values_list("image", flat=True) if n)
    names.update(n for n in Face.objects.filter(photo__room=room).values_list("thumbnail", flat=True) if n)
    names.update(n for n in CrowdPhoto.objects.filter(room=room).values_list("image", flat=True) if n)
    return names


def _walk_storage(storage: Storage, prefix: str) -> Iterator[str]:
    """Yield every file name under a storage prefix, recursively."""
    try:
        directories, files = storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{prefix}/{name}"
    for directory in directories:
        yield from _walk_storage(storage, f"{prefix}/{directory}")


def room_storage_prefix(room_id: int) -> str:
    return f"rooms/{room_id}"


def _delete_files(storage: Storage, names: Iterable[str]) -> None:
    for name in names:
        try:
            storage.delete(name)
        except Exception:  # one stubborn file must not keep the others alive
            logger.exception("could not delete %s", name)


def delete_room(*, room: Room) -> None:
    """Delete a room, its rows and every file it owns in storage."""
    room_id = room.pk
    names = room_file_names(room)
    with transaction.atomic():
        room.delete()

    def purge() -> None:
        _delete_files(default_storage, names)
        # Files written by jobs that raced the delete, or by features that store under the
        # room's prefix (swap results), are caught by walking the prefix.
        _delete_files(default_storage, list(_walk_storage(default_storage, room_storage_prefix(room_id))))

    # Files go only once the rows are gone for good: a rolled-back delete keeps its pictures.
    transaction.on_commit(purge)


def rooms_for_owner(owner: Any):
    """Return the user's rooms with the counts the list page shows."""
    return Room.objects.filter(owner=owner).annotate(
        photo_count=Count("photos", distinct=True),
        identity_count=Count("identities", distinct=True),
        pending_count=Count(
            "photos",
            filter=Q(photos__status__in=[ProcessingStatus.QUEUED, ProcessingStatus.PROCESSING]),
            distinct=True,
        ),
    )


def room_cover_face(room: Room) -> Face | None:
    """Return a face thumbnail that represents the room, if any."""
    return (
        Face.objects.filter(photo__room=room, ignored=False)
        .exclude(thumbnail="")
        .order_by("photo__created_at", "id")
        .first()
    )


# ---------------------------------------------------------------- uploads


@dataclass
class PreparedImage:
    name: str
    sha256: str
    jpeg: bytes
    width: int
    height: int


def _read_upload(upload: UploadedFileLike, max_bytes: int) -> bytes:
    from swaps.pipeline import images

    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise images.TooLargeError(
            f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:.1f} MB limit; upload a smaller photo"
        )
    if hasattr(upload, "seek"):
        upload.seek(0)
    return upload.read(max_bytes + 1)


def prepare_image(upload: UploadedFileLike, *, max_side: int) -> PreparedImage:
    """Validate an upload and return its re-encoded, metadata-free JPEG; raise images.ImageError."""
    from swaps.pipeline import images

    max_bytes = settings.MAX_UPLOAD_BYTES
    raw = _read_upload(upload, max_bytes)
    rgb = images.load_image(raw, max_bytes=max_bytes, max_pixels=settings.MAX_IMAGE_PIXELS)
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


def _store_new(model: type, *, room: Room, prepared: PreparedImage, kind: str, payload_key: str) -> Any:
    """Store a prepared image and its row together; return the row, or None when the content already exists."""
    row = model(room=room, original_name=prepared.name, sha256=prepared.sha256)
    row.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(prepared.jpeg), save=False)
    # Set after saving the file: the field resets its dimension fields when a file is assigned.
    row.width, row.height = prepared.width, prepared.height
    try:
        with transaction.atomic():
            row.save()
            from swaps.jobs import enqueue

            enqueue(kind=kind, room=room, payload={payload_key: row.pk})
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


def add_images(
    *, model: type, room: Room, files: Iterable[UploadedFileLike], kind: str, payload_key: str, max_side: int
) -> UploadReport:
    """Validate, dedupe, store and enqueue processing for each file; one outcome per file."""
    from swaps.pipeline import images

    report = UploadReport()
    seen: set[str] = set()
    for upload in files:
        name = (getattr(upload, "name", "") or "photo")[:255]
        try:
            prepared = prepare_image(upload, max_side=max_side)
        except images.ImageError as error:
            code, message = image_error_message(error)
            report.outcomes.append(UploadOutcome(name=name, status="rejected", error=message, code=code))
            continue
        existing = model.objects.filter(room=room, sha256=prepared.sha256).first()
        if existing is not None or prepared.sha256 in seen:
            report.outcomes.append(
                UploadOutcome(name=name, status="duplicate", photo=existing, error="This photo was already uploaded.")
            )
            continue
        row = _store_new(model, room=room, prepared=prepared, kind=kind, payload_key=payload_key)
        if row is None:
            existing = model.objects.filter(room=room, sha256=prepared.sha256).first()
            report.outcomes.append(
                UploadOutcome(name=name, status="duplicate", photo=existing, error="This photo was already uploaded.")
            )
            continue
        seen.add(prepared.sha256)
        report.outcomes.append(UploadOutcome(name=name, status="added", photo=row))
    return report


def add_photos(*, room: Room, files: Iterable[UploadedFileLike]) -> UploadReport:
    """Store friends' photos that pass validation and queue each new one for face detection."""
    return add_images(
        model=Photo, room=room, files=files, kind="photo", payload_key="photo_id", max_side=PHOTO_MAX_SIDE
    )


def delete_photo(*, photo: Photo) -> None:
    """Delete one friend's photo, its faces and files, then re-cluster the room."""
    room = photo.room
    names = [photo.image.name] + [n for n in photo.faces.values_list("thumbnail", flat=True) if n]
    with transaction.atomic():
        photo.delete()
        recluster_room(room=room)
    transaction.on_commit(lambda: _delete_files(default_storage, names))


# ---------------------------------------------------------------- processing (worker)


def face_thumbnail(rgb: np.ndarray, box: tuple[int, int, int, int]) -> bytes:
    """Return a small square JPEG of a face with some margin around the detector's box."""
    from swaps.pipeline import images

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


def read_stored_rgb(file_field: Any) -> np.ndarray:
    """Decode a stored image (already validated and re-encoded at upload)."""
    from swaps.pipeline import images

    with file_field.storage.open(file_field.name, "rb") as handle:
        raw = handle.read()
    return images.load_image(raw, max_bytes=max(len(raw), 1), max_pixels=settings.MAX_IMAGE_PIXELS)


def process_photo_job(job: Job, progress: Callable[[int, str], None]) -> dict:
    """Detect the faces in one friend's photo, store them with thumbnails and re-cluster the room."""
    try:
        return _process_photo(job, progress)
    except Exception:
        # The jobs engine retries a crash; after the last attempt the photo must not look busy forever.
        if job.attempts >= settings.JOB_MAX_ATTEMPTS:
            Photo.objects.filter(pk=job.payload.get("photo_id")).update(
                status=ProcessingStatus.FAILED, error=PROCESSING_FAILED_MESSAGE
            )
        raise


def _process_photo(job: Job, progress: Callable[[int, str], None]) -> dict:
    from swaps.pipeline import faces as pipeline_faces

    photo_id = job.payload.get("photo_id")
    photo = Photo.objects.filter(pk=photo_id).select_related("room").first()
    if photo is None:
        return {"photo_id": photo_id, "skipped": "The photo was deleted before it was processed."}
    Photo.objects.filter(pk=photo.pk).update(status=ProcessingStatus.PROCESSING, error="")
    progress(10, "Reading photo")
    rgb = read_stored_rgb(photo.image)
    progress(25, "Finding faces")
    found = pipeline_faces.detect_faces(rgb)
    progress(70, "Saving faces")

    thumb_names: list[str] = []
    new_faces: list[Face] = []
    for detected in found:
        face = Face(
            photo=photo,
            left=int(detected.box[0]),
            top=int(detected.box[1]),
            width=int(detected.box[2]),
            height=int(detected.box[3]),
            landmarks=np.asarray(detected.landmarks).round(1).tolist(),
            embedding=Face.pack_embedding(detected.embedding),
            # The pipeline's verdict on whether this face may seed a cluster, kept for re-clustering.
            quality={**_plain(detected.quality), "usable": bool(detected.usable)},
        )
        face.thumbnail.save(f"{uuid.uuid4().hex}.jpg", ContentFile(face_thumbnail(rgb, face.box)), save=False)
        thumb_names.append(face.thumbnail.name)
        new_faces.append(face)

    try:
        with transaction.atomic():
            _lock_room(photo.room_id)
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
            transaction.on_commit(lambda: _delete_files(default_storage, old_thumbs))
    except Photo.DoesNotExist:
        _delete_files(default_storage, thumb_names)
        return {"photo_id": photo_id, "skipped": "The photo was deleted while it was processed."}
    except BaseException:
        _delete_files(default_storage, thumb_names)
        raise
    return {"photo_id": photo.pk, "faces": len(new_faces), **({} if new_faces else {"error": NO_FACE_MESSAGE})}


def _plain(value: Any) -> Any:
    """Return a JSON-safe copy of a dict that may hold numpy scalars."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------- identities


def recluster_room(*, room: Room) -> dict[str, int]:
    """Re-group the room's faces into identities, keeping every decision the host made.

    Pinned faces (moved or merged by hand) keep their identity; the others follow their cluster,
    and a cluster keeps the identity most of its faces had before, so names, hidden flags and
    merges persist. Each face DBSCAN leaves unclustered is a person of its own. Identities left
    without faces are deleted: an empty card helps nobody, and its name had no face to belong to.
    """
    from swaps.pipeline import identities as pipeline_identities

    with transaction.atomic():
        _lock_room(room.pk)
        faces = list(
            Face.objects.select_for_update()
            .filter(photo__room=room, ignored=False, photo__status=ProcessingStatus.DONE)
            .order_by("id")
        )
        if faces:
            embeddings = np.stack([f.embedding_array() for f in faces])
            raw_labels = pipeline_identities.cluster_faces(
                embeddings,
                photo_keys=[f.photo_id for f in faces],
                seeds_ok=[bool((f.quality or {}).get("usable", True)) for f in faces],
            )
            labels = _singletons_for_noise([int(x) for x in raw_labels])
            label_identity = _identity_per_label(labels, faces)
        else:
            labels, label_identity = [], {}

        existing = set(Identity.objects.filter(room=room).values_list("id", flat=True))
        created: dict[int, Identity] = {}
        changed: list[Face] = []
        for face, label in zip(faces, labels, strict=True):
            if face.pinned and face.identity_id in existing:
                continue
            target = label_identity.get(label)
            if target is None or target not in existing:
                if label not in created:
                    created[label] = Identity.objects.create(room=room)
                target = created[label].pk
            if face.identity_id != target:
                face.identity_id = target
                changed.append(face)
        Face.objects.bulk_update(changed, ["identity"])
        deleted, _ = Identity.objects.filter(room=room).annotate(n=Count("faces")).filter(n=0).delete()
    return {"faces": len(faces), "changed": len(changed), "created": len(created), "deleted": deleted}


def _singletons_for_noise(labels: list[int]) -> list[int]:
    next_label = max(labels, default=-1) + 1
    result = []
    for label in labels:
        if label < 0:
            label, next_label = next_label, next_label + 1
        result.append(label)
    return result


def _identity_per_label(labels: list[int], faces: list[Face]) -> dict[int, int | None]:
    """Return, per cluster, the identity its faces had before (the pipeline's one-to-one carry-over).

    A cluster the carry-over leaves without an identity still joins the identity of its pinned
    faces: two clusters holding one merged identity is what a host's merge means, and a later
    upload must not split it again.
    """
    from swaps.pipeline import identities as pipeline_identities

    result = pipeline_identities.carry_over(labels, [f.identity_id for f in faces])
    pinned: dict[int, Counter[int]] = {}
    for face, label in zip(faces, labels, strict=True):
        if face.pinned and face.identity_id is not None:
            pinned.setdefault(label, Counter())[face.identity_id] += 1
    for label, counter in pinned.items():
        if result.get(label) is None:
            result[label] = counter.most_common(1)[0][0]
    return result


def _lock_room(room_id: int) -> None:
    """Serialise identity changes of one room: re-clustering and the host's edits take this lock first.

    One lock per room, always taken first, means two writers never hold each other's rows (no deadlock)
    and a merge never interleaves with a re-clustering that would undo half of it.
    """
    Room.objects.select_for_update().filter(pk=room_id).values_list("pk", flat=True).first()


def _delete_if_empty(identity_id: int | None) -> None:
    if identity_id is not None:
        Identity.objects.filter(pk=identity_id).annotate(n=Count("faces")).filter(n=0).delete()


def rename_identity(*, identity: Identity, name: str) -> Identity:
    """Name a person (an empty name goes back to "Person N")."""
    identity.name = name.strip()[:80]
    identity.save(update_fields=["name"])
    return identity


def set_identity_hidden(*, identity: Identity, hidden: bool) -> Identity:
    """Hide a person from swaps and albums, or show them again."""
    identity.hidden = hidden
    identity.save(update_fields=["hidden"])
    return identity


def merge_identities(*, room: Room, identity_ids: list[int], name: str | None = None) -> Identity:
    """Merge several identities of a room into the first one; its faces are pinned so re-clustering keeps them."""
    ids = list(dict.fromkeys(int(i) for i in identity_ids))
    if len(ids) < 2:
        raise ServiceError("Choose at least two people to merge.")
    with transaction.atomic():
        _lock_room(room.pk)
        found = {i.pk: i for i in Identity.objects.select_for_update().filter(room=room, pk__in=ids)}
        if len(found) != len(ids):
            raise ServiceError("One of these people no longer exists. Reload the page and try again.")
        target = found[ids[0]]
        others = [found[i] for i in ids[1:]]
        if not target.name:
            target.name = next((o.name for o in others if o.name), "")
        if name is not None and name.strip():
            target.name = name.strip()[:80]
        target.hidden = target.hidden and all(o.hidden for o in others)
        target.save(update_fields=["name", "hidden"])
        Face.objects.filter(identity_id__in=ids).update(identity=target, pinned=True)
        Identity.objects.filter(pk__in=[o.pk for o in others]).delete()
    return target


def move_face(*, face: Face, identity: Identity | None) -> Identity:
    """Move one face to another identity of its room, or out into a new one; the face is pinned there."""
    with transaction.atomic():
        _lock_room(Photo.objects.filter(pk=face.photo_id).values_list("room_id", flat=True).get())
        face = Face.objects.select_for_update().select_related("photo").get(pk=face.pk)
        room_id = face.photo.room_id
        if identity is None:
            identity = Identity.objects.create(room_id=room_id)
        else:
            identity = Identity.objects.select_for_update().filter(pk=identity.pk, room_id=room_id).first()
            if identity is None:
                raise ServiceError("That person is not in this room any more. Reload the page and try again.")
        previous = face.identity_id
        face.identity = identity
        face.pinned = True
        face.ignored = False
        face.save(update_fields=["identity", "pinned", "ignored"])
        if previous != identity.pk:
            _delete_if_empty(previous)
    return identity


def ignore_face(*, face: Face, ignored: bool = True) -> Face:
    """Mark a detection as "not a face" (it leaves its identity and every later clustering), or undo it."""
    with transaction.atomic():
        _lock_room(Photo.objects.filter(pk=face.photo_id).values_list("room_id", flat=True).get())
        face = Face.objects.select_for_update().select_related("photo__room").get(pk=face.pk)
        previous = face.identity_id
        face.ignored = ignored
        face.pinned = False
        if ignored:
            face.identity = None
        face.save(update_fields=["ignored", "pinned", "identity"])
        if ignored:
            _delete_if_empty(previous)
        else:
            recluster_room(room=face.photo.room)
            face.refresh_from_db()
    return face


def identities_for_room(room: Room):
    """Return the room's identities with their face and photo counts."""
    return Identity.objects.filter(room=room).annotate(
        face_count=Count("faces", filter=Q(faces__ignored=False), distinct=True),
        photo_count=Count("faces__photo", filter=Q(faces__ignored=False), distinct=True),
    )


def representative_face(identity: Identity) -> Face | None:
    """Return the identity's best-looking face for its card."""
    faces = list(identity.faces.filter(ignored=False))
    if not faces:
        return None
    return max(faces, key=lambda f: (float((f.quality or {}).get("score", 0.0)), f.width * f.height))


# ---------------------------------------------------------------- albums


def album_photos(identity: Identity):
    """Return every photo the identity appears in."""
    return Photo.objects.filter(faces__identity=identity, faces__ignored=False).distinct().order_by("created_at", "id")


def album_identities(room: Room):
    """Return the identities that get an album: hidden people are left out."""
    return identities_for_room(room).filter(hidden=False)


class _ChunkSink(io.RawIOBase):
    """A write-only, unseekable stream that hands written bytes to a generator."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.offset = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        self.offset += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.offset

    def drain(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


def album_zip_name(identity: Identity) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in identity.display_name).strip("-") or "album"
    return f"{safe}.zip"


def stream_album_zip(photos: Iterable[Photo], *, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    """Yield a ZIP of the photos piece by piece, holding at most one chunk of one file in memory."""
    sink = _ChunkSink()
    used: set[str] = set()
    # JPEGs do not compress: storing them keeps the worker's CPU for faces.
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_STORED) as archive:
        for index, photo in enumerate(photos, start=1):
            stem = (photo.original_name.rsplit(".", 1)[0] or "photo").replace("/", "-")[:80]
            name = f"{index:03d}-{stem}.jpg"
            while name in used:
                name = f"{index:03d}-{uuid.uuid4().hex[:6]}-{stem}.jpg"
            used.add(name)
            with photo.image.storage.open(photo.image.name, "rb") as source, archive.open(name, "w") as target:
                while chunk := source.read(chunk_size):
                    target.write(chunk)
                    if sink.offset and sink.chunks:
                        yield sink.drain()
            yield sink.drain()
    yield sink.drain()


# ---------------------------------------------------------------- lookalikes


def latest_crowd_photo(room: Room):
    from swaps.models import CrowdPhoto

    return CrowdPhoto.objects.filter(room=room, status=ProcessingStatus.DONE).order_by("-created_at", "-id").first()


def pipeline_face(row: Any) -> Any:
    """Return a stored face row as the pipeline's Face dataclass."""
    from swaps.pipeline import faces as pipeline_faces

    return pipeline_faces.Face(
        box=tuple(row.box),
        landmarks=np.asarray(row.landmarks, dtype=np.float64).reshape(-1, 2),
        embedding=row.embedding_array(),
        quality=dict(row.quality or {}),
        usable=bool(getattr(row, "usable", True)),
    )


def lookalikes(*, room: Room, k: int = LOOKALIKES_PER_IDENTITY) -> dict[int, list[tuple[Any, float]]]:
    """Return, per identity, its k most similar faces in the latest crowd photo as (CrowdFace, distance)."""
    from swaps.pipeline import matching

    crowd = latest_crowd_photo(room)
    if crowd is None:
        return {}
    crowd_rows = list(crowd.faces.all())
    if not crowd_rows:
        return {}
    crowd_faces = [pipeline_face(row) for row in crowd_rows]
    result: dict[int, list[tuple[Any, float]]] = {}
    for identity in Identity.objects.filter(room=room):
        embeddings = [f.embedding_array() for f in identity.faces.filter(ignored=False)]
        if not embeddings:
            continue
        pairs = matching.lookalikes(np.stack(embeddings), crowd_faces, k=k)
        result[identity.pk] = [(crowd_rows[int(index)], float(distance)) for index, distance in pairs]
    return result
