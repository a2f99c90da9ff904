"""Swaps: start a version, the swap job that hides friends in a crowd, and sharing it as a challenge."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from crowdswap.jobs.engine import enqueue
from crowdswap.jobs.kinds import JobError, Kind, Progress
from crowdswap.jobs.models import Job
from crowdswap.lib.errors import ServiceError
from crowdswap.lib.files import delete_files
from rooms.models import Face, Identity, ProcessingStatus, Room
from rooms.services.identities import lock_room
from rooms.services.uploads import read_stored_rgb
from swaps.models import CrowdPhoto, Swap, new_share_token
from swaps.pipeline import disguise, images, matching
from swaps.pipeline import swap as pipeline_swap

PREVIEW_SIZE = (1200, 630)  # Open Graph's recommended link-preview size
RESULT_JPEG_QUALITY = 90
FAILED_MESSAGE = "The swap failed. Retry, or start a new version."


def swappable_identities(room: Room) -> QuerySet[Identity]:
    """Return the room's visible identities that have at least one usable face, oldest first."""
    usable_ids = Face.objects.filter(photo__room=room, ignored=False, usable=True).values("identity_id")
    return Identity.objects.filter(room=room, hidden=False, pk__in=usable_ids).order_by("created_at", "id")


def hosting_crowds(room: Room) -> list[CrowdPhoto]:
    """Return the room's crowd photos whose faces were found, each with `hosts`: how many friends it can take."""
    return list(
        CrowdPhoto.objects.filter(room=room, status=ProcessingStatus.DONE)
        .annotate(hosts=Count("faces", filter=Q(faces__can_host=True)))
        .order_by("-created_at", "-id")
    )


def best_crowd(crowds: Sequence[CrowdPhoto]) -> CrowdPhoto | None:
    """Return the crowd that can host the most friends (the newest of equals); `crowds` carry `hosts`."""
    return max(crowds, key=lambda crowd: (crowd.hosts, crowd.created_at, crowd.pk), default=None)


def unnamed_friends(swap: Swap) -> list[str]:
    """Return the display names ("Person 9") of the friends a version hides who have no name yet."""
    ids = swap.hidden_identity_ids() if swap.answer_key else [int(i) for i in swap.identity_ids]
    found = Identity.objects.filter(pk__in=ids).in_bulk()
    return [found[pk].display_name for pk in ids if pk in found and not found[pk].name]


def start_swap(
    *,
    room: Room,
    crowd_photo_id: int,
    identity_ids: Sequence[int] | None = None,
    difficulty: str = Swap.Difficulty.MEDIUM,
) -> Swap:
    """Create the next swap version of a room and queue the job that makes it.

    Default: every visible identity with a usable face, as many as the crowd's hostable faces allow.
    """
    if difficulty not in Swap.Difficulty.values:
        raise ServiceError("Choose easy, medium or hard.")
    crowd_photo = CrowdPhoto.objects.filter(room=room, pk=crowd_photo_id).first()
    if crowd_photo is None:
        raise ServiceError("That crowd photo is not in this room. Choose one of this room's crowd photos.")
    if crowd_photo.status != ProcessingStatus.DONE:
        raise ServiceError("Wait until the faces in this crowd photo have been found, then start the swap.")
    hosts = crowd_photo.faces.filter(can_host=True).count()
    if hosts == 0:
        raise ServiceError(
            "No face in this crowd photo is large and front-facing enough to take a friend. Choose another crowd."
        )
    eligible = list(swappable_identities(room))
    if identity_ids is None:
        chosen = eligible[:hosts]
    else:
        wanted = list(dict.fromkeys(int(pk) for pk in identity_ids))
        found = Identity.objects.filter(room=room).in_bulk(wanted)
        if len(found) != len(wanted):
            raise ServiceError("Some of those people are not in this room. Reload the list of people and try again.")
        chosen = [found[pk] for pk in wanted]
        eligible_ids = {i.pk for i in eligible}
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
        lock_room(room.pk)
        last = Swap.objects.filter(room=room).order_by("-version").values_list("version", flat=True).first() or 0
        swap = Swap.objects.create(
            room=room,
            crowd_photo=crowd_photo,
            version=last + 1,
            identity_ids=[i.pk for i in chosen],
            difficulty=difficulty,
        )
        swap.job = enqueue(
            kind=SWAP_JOB, payload={"swap_id": swap.pk}, owner_id=room.owner_id, group_name=room.group_name
        )
        swap.save(update_fields=["job"])
    return swap


def preview_jpeg(rgb: np.ndarray, size: tuple[int, int] = PREVIEW_SIZE) -> bytes:
    """Return the image cropped to fill ``size`` (centre crop, no bars) as a JPEG."""
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


def run_swap(job: Job, progress: Progress) -> dict:
    """Match the chosen friends to crowd faces, swap them in, store the result, preview and answer key."""
    swap_id = job.payload.get("swap_id")
    swap = Swap.objects.filter(pk=swap_id).select_related("crowd_photo").first()
    if swap is None:
        return {"swap_id": swap_id, "skipped": "The swap was discarded before it ran."}
    crowd = swap.crowd_photo
    if crowd is None:
        raise JobError("The crowd photo was deleted. Upload a crowd photo and start a new swap.")
    Swap.objects.filter(pk=swap.pk).update(status=Swap.Status.RUNNING, error="")
    progress(5, "Reading photos")
    targets_rows = list(crowd.faces.filter(can_host=True))
    if not targets_rows:
        raise JobError("No face in this crowd photo can host a friend. Choose another crowd.")
    identities = {i.pk: i for i in Identity.objects.filter(room_id=swap.room_id, pk__in=swap.identity_ids)}
    faces_by_identity: dict[int, list[Face]] = {}
    for face in Face.objects.filter(identity_id__in=list(identities), ignored=False).select_related("photo"):
        if face.identity_id is not None:
            faces_by_identity.setdefault(face.identity_id, []).append(face)
    # Keep the host's order; people deleted since the swap was started are left out.
    chosen = [pk for pk in swap.identity_ids if pk in identities and faces_by_identity.get(pk)]
    if not chosen:
        raise JobError("None of the chosen people has a face any more. Choose people and start again.")
    crowd_rgb = read_stored_rgb(crowd.image)
    height, width = crowd_rgb.shape[:2]
    targets = [row.to_pipeline() for row in targets_rows]
    progress(15, "Matching friends to crowd faces")
    embeddings = {pk: np.stack([f.embedding_array() for f in faces_by_identity[pk]]) for pk in chosen}
    matches = matching.assign(embeddings, targets, image_size=(width, height))

    photo_cache: dict[int, np.ndarray] = {}
    pairs = []
    answer_key = []
    for match in matches:
        rows = faces_by_identity[int(match.identity)]
        target = targets[match.target]
        source_row = rows[pipeline_swap.best_source([r.to_pipeline() for r in rows], target)]
        if source_row.photo_id not in photo_cache:
            photo_cache[source_row.photo_id] = read_stored_rgb(source_row.photo.image)
        pairs.append((photo_cache[source_row.photo_id], source_row.to_pipeline(), target))
        box = pipeline_swap.answer_box(target, (width, height))
        answer_key.append({"identity": int(match.identity), "box": [float(v) for v in box]})

    def swap_progress(fraction: float, stage: str) -> None:
        progress(20 + int(65 * fraction), stage[:1].upper() + stage[1:])

    result = pipeline_swap.swap_faces(crowd_rgb, pairs, progress=swap_progress)
    # Published as a whole new rendering: a diff against the (public) original crowd must not point at faces.
    result, rendering = disguise.rerender(result, keep=[tuple(e["box"]) for e in answer_key])
    # "box" is where the face is in the published picture; "crowd_box" where it was in the crowd photo, for the
    # reveal's before-and-after (both as image fractions).
    answer_key = [
        {
            "identity": e["identity"],
            "box": [round(float(v), 5) for v in rendering.box(tuple(e["box"]))],
            "crowd_box": [round(float(v), 5) for v in e["box"]],
        }
        for e in answer_key
    ]
    height, width = result.shape[:2]
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
            delete_files(default_storage, new_names)
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
        transaction.on_commit(lambda: delete_files(default_storage, old_names))
    # The job's result is shown to the host only, but keep the key out of it all the same.
    return {"swap_id": swap.pk, "hidden": len(answer_key), "version": swap.version}


def swap_failed(job: Job, reason: str | None) -> None:
    """Show a swap whose job failed for good as failed: the handler's own reason, or a general one."""
    Swap.objects.filter(pk=job.payload.get("swap_id")).update(status=Swap.Status.FAILED, error=reason or FAILED_MESSAGE)


def swap_retried(job: Job) -> None:
    """Show a swap whose job was queued again as queued."""
    Swap.objects.filter(pk=job.payload.get("swap_id")).update(status=Swap.Status.QUEUED, error="")


SWAP_JOB = Kind(name="swap", label="Swap friends into a crowd", run=run_swap, failed=swap_failed, retried=swap_retried)


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
    transaction.on_commit(lambda: delete_files(default_storage, names))
