"""Swaps: start a version, the swap job that hides friends in a crowd, and sharing it as a challenge."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Prefetch, QuerySet

from crowdswap.jobs.engine import enqueue
from crowdswap.jobs.kinds import JobError, Kind, Progress
from crowdswap.jobs.models import Job
from crowdswap.lib.errors import ServiceError
from crowdswap.lib.files import delete_files
from rooms.models import Face, Identity, ProcessingStatus, Room
from rooms.services.faces import store_quality
from rooms.services.identities import lock_room
from rooms.services.uploads import read_stored_rgb
from swaps.models import CrowdFace, CrowdPhoto, Swap, new_share_token
from swaps.pipeline import disguise, hiding, images, traits
from swaps.pipeline import swap as pipeline_swap
from swaps.services import placement

PREVIEW_SIZE = (1200, 630)  # Open Graph's recommended link-preview size
RESULT_JPEG_QUALITY = 90
FAILED_MESSAGE = "The swap failed. Retry, or start a new version."


def swappable_identities(room: Room) -> QuerySet[Identity]:
    """Return the room's visible identities that have at least one usable face, oldest first."""
    usable_ids = Face.objects.filter(photo__room=room, ignored=False, usable=True).values("identity_id")
    return Identity.objects.filter(room=room, hidden=False, pk__in=usable_ids).order_by("created_at", "id")


# What a host count reads of a crowd's faces: the box and the stored size, not the embedding or the mesh.
_SIZED_HOSTS = CrowdFace.objects.filter(can_host=True).only(
    "id", "crowd_photo_id", "left", "top", "width", "height", "quality", "can_host"
)


def hosting_crowds(room: Room) -> list[CrowdPhoto]:
    """Return the room's crowd photos whose faces were found, each with `hosts_at`: how many friends it can take at
    each difficulty (faces large enough for it), and `hosts`: that number at Medium."""
    crowds = list(
        CrowdPhoto.objects.filter(room=room, status=ProcessingStatus.DONE)
        .prefetch_related(Prefetch("faces", queryset=_SIZED_HOSTS, to_attr="hosting"))
        .order_by("-created_at", "-id")
    )
    for crowd in crowds:
        crowd.hosts_at = placement.host_counts(crowd.hosting)
        crowd.hosts = crowd.hosts_at[Swap.Difficulty.MEDIUM]
    return crowds


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
    pins: Mapping[int, int] | None = None,
    seed: int | None = None,
) -> Swap:
    """Create the next swap version of a room and queue the job that makes it.

    Default: the visible people who fit a face of this crowd, best fit first, as many as its hosting faces allow.
    ``pins`` fixes a friend to a crowd face ({identity id: crowd face id}; refused with the reason when the fit does
    not allow it), ``seed`` re-rolls among near-equal placements (None: the best one): the job places the friends
    exactly as the swap form's preview did (swaps.services.placement).
    """
    placement.pipeline_difficulty(difficulty)
    seed = placement.clean_seed(seed)
    pins = {int(identity): int(face) for identity, face in (pins or {}).items()}
    crowd_photo = CrowdPhoto.objects.filter(room=room, pk=crowd_photo_id).first()
    if crowd_photo is None:
        raise ServiceError("That crowd photo is not in this room. Choose one of this room's crowd photos.")
    if crowd_photo.status != ProcessingStatus.DONE:
        raise ServiceError("Wait until the faces in this crowd photo have been found, then start the swap.")
    hosts = placement.host_counts(_SIZED_HOSTS.filter(crowd_photo=crowd_photo))[str(difficulty)]
    if hosts == 0:
        raise ServiceError(
            "No face in this crowd photo is large and front-facing enough to take a friend at this difficulty. "
            "Choose another crowd or another difficulty."
        )
    eligible = list(swappable_identities(room))
    planner = placement.Planner.load(crowd=crowd_photo, difficulty=difficulty, eligible=eligible)
    if identity_ids is None:
        fitting = sorted((row for row in planner.fits if row.best.allowed), key=lambda row: -row.best.score)
        kept = {row.identity.pk for row in fitting[:hosts]}
        chosen = [identity for identity in eligible if identity.pk in kept]
        if eligible and not chosen:
            raise ServiceError(
                "Nobody fits a face in this crowd at this difficulty"
                + _reasons_text({row.identity: placement.reasons_in_words(row.best) for row in planner.fits})
                + ". Choose people yourself, another crowd or another difficulty."
            )
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
    planned = planner.place([i.pk for i in chosen], pins, seed)
    if planned.refused:
        raise ServiceError(planned.refused[0].message + " Choose another face for them, or let CrowdSwap place them.")
    if not planned.placed:
        names = {i.pk: i for i in chosen}
        raise ServiceError(
            "Nobody you chose fits a face in this crowd"
            + _reasons_text({names[pk]: [reason] for pk, reason in planned.unplaced.items() if pk in names})
            + ". Choose other people, another crowd or another difficulty."
        )
    with transaction.atomic():
        lock_room(room.pk)
        last = Swap.objects.filter(room=room).order_by("-version").values_list("version", flat=True).first() or 0
        swap = Swap.objects.create(
            room=room,
            crowd_photo=crowd_photo,
            version=last + 1,
            identity_ids=[i.pk for i in chosen],
            difficulty=difficulty,
            pins={str(identity): face for identity, face in pins.items()},
            seed=seed,
        )
        swap.job = enqueue(
            kind=SWAP_JOB, payload={"swap_id": swap.pk}, owner_id=room.owner_id, group_name=room.group_name
        )
        swap.save(update_fields=["job"])
    return swap


def _reasons_text(reasons: Mapping[Identity, Sequence[str]], limit: int = 3) -> str:
    """Return ": Angie: looks like a man, the friend does not; Bob: ..." for the first few people."""
    parts = [f"{identity.display_name}: {'; '.join(why)}" for identity, why in list(reasons.items())[:limit]]
    more = len(reasons) - limit
    if more > 0:
        parts.append(f"and {more} more")
    return (" (" + " · ".join(parts) + ")") if parts else ""


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


def room_people(room_id: int) -> dict[int, np.ndarray]:
    """Return the embeddings of every person of a room (hidden ones too): a swapped face must be nearest its friend
    among all of them to count as recognisable."""
    people: dict[int, list[np.ndarray]] = {}
    for face in Face.objects.filter(photo__room_id=room_id, identity__isnull=False, ignored=False).only(
        "identity_id", "embedding"
    ):
        if face.embedded and face.identity_id is not None:
            people.setdefault(face.identity_id, []).append(face.embedding_array())
    return {pk: np.stack(found) for pk, found in people.items()}


def run_swap(job: Job, progress: Progress) -> dict:
    """Place the chosen friends on the crowd faces they fit, swap them in checking each stays recognisable, and
    store the result, preview, answer key and who was left out."""
    swap_id = job.payload.get("swap_id")
    swap = Swap.objects.filter(pk=swap_id).select_related("crowd_photo").first()
    if swap is None:
        return {"swap_id": swap_id, "skipped": "The swap was discarded before it ran."}
    crowd = swap.crowd_photo
    if crowd is None:
        raise JobError("The crowd photo was deleted. Upload a crowd photo and start a new swap.")
    Swap.objects.filter(pk=swap.pk).update(status=Swap.Status.RUNNING, error="")
    progress(5, "Reading photos")
    identities = Identity.objects.filter(room_id=swap.room_id, pk__in=swap.identity_ids).in_bulk()
    # People deleted since the swap was started are left out.
    chosen = [int(pk) for pk in swap.identity_ids if int(pk) in identities]
    inputs = placement.placement_inputs(crowd, chosen)
    if not inputs.hosts:
        raise JobError("No face in this crowd photo can host a friend. Choose another crowd.")
    if not inputs.friends:
        raise JobError("None of the chosen people has a face any more. Choose people and start again.")
    crowd_rgb = read_stored_rgb(crowd.image)
    height, width = crowd_rgb.shape[:2]
    # Pins name crowd faces; a face found again since (a re-run crowd job) no longer holds its pin.
    pins = {
        pk: index
        for pk, face_id in swap.pinned_faces().items()
        if pk in inputs.friends and (index := inputs.index_of(face_id)) is not None
    }
    photos: dict[int, np.ndarray] = {}

    def load_photo(identity_id: int, index: int) -> np.ndarray:
        row = inputs.rows[identity_id][index]
        if row.photo_id not in photos:
            photos[row.photo_id] = read_stored_rgb(row.photo.image)
        return photos[row.photo_id]

    def swap_progress(fraction: float, stage: str) -> None:
        progress(15 + int(70 * fraction), stage[:1].upper() + stage[1:])

    progress(10, "Choosing where each friend goes")
    result = hiding.hide_friends(
        crowd_rgb,
        inputs.targets,
        inputs.friends,
        load_photo,
        pins=pins,
        seed=swap.seed,
        difficulty=placement.pipeline_difficulty(swap.difficulty),
        room=room_people(swap.room_id),
        progress=swap_progress,
    )
    _store_new_traits(inputs)
    left_out = {pk: placement.NO_CLEAR_FACE for pk in chosen if pk not in inputs.friends}
    left_out.update({int(pk): placement.reason_in_words(why) for pk, why in result.unplaced.items()})
    unplaced = [{"identity": pk, "reason": left_out[pk]} for pk in chosen if pk in left_out]
    if not result.hidden:
        Swap.objects.filter(pk=swap.pk).update(unplaced=unplaced)
        raise JobError(
            "Nobody could be hidden in this crowd"
            + _reasons_text({identities[pk]: [why] for pk, why in left_out.items()})
            + ". Choose other people, another crowd or another difficulty."
        )
    # The host's order, as the play page lists the friends to find.
    hidden = sorted(result.hidden, key=lambda h: chosen.index(int(h.identity)))
    answer_key = [
        {
            "identity": int(h.identity),
            "box": [float(v) for v in pipeline_swap.answer_box(inputs.targets[h.target], (width, height))],
        }
        for h in hidden
    ]
    # Published as a whole new rendering: a diff against the (public) original crowd must not point at faces.
    image, rendering = disguise.rerender(result.image, keep=[tuple(e["box"]) for e in answer_key])
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
    height, width = image.shape[:2]
    progress(90, "Saving the result")
    result_jpeg = images.encode_jpeg(image, quality=RESULT_JPEG_QUALITY)
    preview = preview_jpeg(image)

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
        # A re-run replaces the first run's files, key and left-out friends instead of adding to them.
        Swap.objects.filter(pk=swap.pk).update(
            image=swap.image.name,
            preview=swap.preview.name,
            width=width,
            height=height,
            answer_key=answer_key,
            unplaced=unplaced,
            status=Swap.Status.DONE,
            error="",
        )
        transaction.on_commit(lambda: delete_files(default_storage, old_names))
    # The job's result is shown to the host only, but keep the key out of it all the same.
    return {"swap_id": swap.pk, "hidden": len(answer_key), "version": swap.version}


def _store_new_traits(inputs: placement.Inputs) -> None:
    """Keep the look and expression the swap read for faces stored without them, or with an older reading (the
    form's fits use them; rooms.services.faces.find_faces reads them for new photos)."""
    pairs = list(zip(inputs.hosts, inputs.targets, strict=True))
    for pk, rows in inputs.rows.items():
        pairs += list(zip(rows, inputs.friends[pk], strict=True))
    for row, face in pairs:
        if not traits.is_current(row.quality or {}) and traits.is_current(face.quality):
            store_quality(row, face)


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
