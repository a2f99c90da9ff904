"""People: regroup faces into identities, and every edit the host makes to them (under the room's lock)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from crowdswap.lib.errors import Conflict, ServiceError
from rooms.models import Face, Identity, KeptApart, PeopleEdit, Photo, ProcessingStatus, Room
from swaps.pipeline import identities as pipeline_identities

# Undo records a room keeps (its newest edits).
KEPT_EDITS = 50


def lock_room(room_id: int) -> None:
    """Serialise identity changes of one room: re-clustering and the host's edits take this lock first.

    One lock per room, always taken first, means two writers never hold each other's rows (no deadlock)
    and a merge never interleaves with a re-clustering that would undo half of it.
    """
    Room.objects.select_for_update().filter(pk=room_id).values_list("pk", flat=True).first()


def recluster_room(*, room: Room) -> dict[str, int]:
    """Re-group the room's faces into identities, keeping every decision the host made.

    Pinned faces (moved or merged by hand) keep their identity; the others follow their cluster,
    and a cluster keeps the identity most of its faces had before, so names, hidden flags and
    merges persist. Each face DBSCAN leaves unclustered is a person of its own. Identities left
    without faces are deleted: an empty card helps nobody, and its name had no face to belong to.
    """
    with transaction.atomic():
        lock_room(room.pk)
        faces = [
            face
            for face in Face.objects.select_for_update()
            .filter(photo__room=room, ignored=False, photo__status=ProcessingStatus.DONE)
            .order_by("id")
            if face.embedded
        ]
        if faces:
            embeddings = np.stack([f.embedding_array() for f in faces])
            raw_labels = pipeline_identities.cluster_faces(
                embeddings, photo_keys=[f.photo_id for f in faces], seeds_ok=[f.usable for f in faces]
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
    # What the host decided (a name, hiding someone, a face moved or merged by hand) wins the carry-over: when a
    # new photo joins a named person and an unnamed one, the cluster keeps the named one.
    decided = set(
        Identity.objects.filter(pk__in={f.identity_id for f in faces if f.identity_id is not None})
        .filter(Q(hidden=True) | ~Q(name="") | Q(faces__pinned=True))
        .values_list("pk", flat=True)
    )
    result = pipeline_identities.carry_over(labels, [f.identity_id for f in faces], preferred=decided)
    pinned: dict[int, Counter[int]] = {}
    for face, label in zip(faces, labels, strict=True):
        if face.pinned and face.identity_id is not None:
            pinned.setdefault(label, Counter())[face.identity_id] += 1
    for label, counter in pinned.items():
        if result.get(label) is None:
            result[label] = counter.most_common(1)[0][0]
    return result


def _delete_if_empty(identity_id: int | None) -> None:
    if identity_id is not None:
        Identity.objects.filter(pk=identity_id).annotate(n=Count("faces")).filter(n=0).delete()


def _locked_identity(identity: Identity) -> Identity:
    """Take the room's lock and return the identity as it is now (it may have been merged away)."""
    lock_room(identity.room_id)
    fresh = Identity.objects.select_for_update().filter(pk=identity.pk).first()
    if fresh is None:
        raise ServiceError("This person no longer exists (merged or regrouped). Reload the page and try again.")
    return fresh


def rename_identity(*, identity: Identity, name: str) -> Identity:
    """Name a person (an empty name goes back to "Person N")."""
    with transaction.atomic():
        identity = _locked_identity(identity)
        identity.name = name.strip()[:80]
        identity.save(update_fields=["name"])
    return identity


def set_identity_hidden(*, identity: Identity, hidden: bool) -> Identity:
    """Hide a person from swaps and albums, or show them again."""
    with transaction.atomic():
        identity = _locked_identity(identity)
        identity.hidden = hidden
        identity.save(update_fields=["hidden"])
    return identity


def _identity_record(identity: Identity) -> dict[str, Any]:
    """Return what undoing an edit needs to bring a person back as they were."""
    return {
        "id": identity.pk,
        "name": identity.name,
        "hidden": identity.hidden,
        "cover": identity.cover_id,
        "created_at": identity.created_at.isoformat(),
    }


def _restore_identity(room_id: int, record: dict[str, Any]) -> Identity:
    """Return the person of a record, re-created under their old id if an edit deleted them.

    The same id matters: swap versions name the friends they hide by id, so a merge undone gives
    those versions their friend back.
    """
    identity = Identity.objects.select_for_update().filter(pk=record["id"]).first()
    if identity is None:
        identity = Identity.objects.create(pk=record["id"], room_id=room_id)
        Identity.objects.filter(pk=identity.pk).update(created_at=datetime.fromisoformat(record["created_at"]))
    identity.name = record["name"]
    identity.hidden = record["hidden"]
    identity.cover_id = record["cover"]
    identity.save(update_fields=["name", "hidden", "cover"])
    return identity


def merge_identities(*, room: Room, identity_ids: list[int], name: str | None = None) -> PeopleEdit:
    """Merge several identities of a room into the first one; its faces are pinned so re-clustering keeps them.

    Returns the edit, which names the merged person and can be undone.
    """
    ids = list(dict.fromkeys(int(i) for i in identity_ids))
    if len(ids) < 2:
        raise ServiceError("Choose at least two people to merge.")
    with transaction.atomic():
        lock_room(room.pk)
        found = {i.pk: i for i in Identity.objects.select_for_update().filter(room=room, pk__in=ids)}
        if len(found) != len(ids):
            raise ServiceError("One of these people no longer exists. Reload the page and try again.")
        target = found[ids[0]]
        others = [found[i] for i in ids[1:]]
        faces = list(Face.objects.filter(identity_id__in=ids).values("id", "identity_id", "pinned"))
        changes = {
            "target": _identity_record(target),
            "absorbed": [_identity_record(o) for o in others],
            "faces": [{"id": f["id"], "identity": f["identity_id"], "pinned": f["pinned"]} for f in faces],
        }
        if not target.name:
            target.name = next((o.name for o in others if o.name), "")
        if name is not None and name.strip():
            target.name = name.strip()[:80]
        target.hidden = target.hidden and all(o.hidden for o in others)
        # The merged person keeps the picture the host knew them by, not whichever face is best among all.
        if target.cover_id is None:
            kept = target.cover_face()
            target.cover_id = kept.pk if kept is not None else None
        target.save(update_fields=["name", "hidden", "cover"])
        Face.objects.filter(identity_id__in=ids).update(identity=target, pinned=True)
        Identity.objects.filter(pk__in=[o.pk for o in others]).delete()
        edit = _record_edit(room.pk, PeopleEdit.Kind.MERGE, target, changes)
    return edit


def move_face(*, face: Face, identity_id: int | None) -> PeopleEdit:
    """Move one face to another identity of its room (None: out into a new one); the face is pinned there.

    Returns the edit, which names the person the face went to and can be undone.
    """
    with transaction.atomic():
        lock_room(Photo.objects.filter(pk=face.photo_id).values_list("room_id", flat=True).get())
        face = Face.objects.select_for_update().select_related("photo").get(pk=face.pk)
        room_id = face.photo.room_id
        if identity_id is None:
            identity = Identity.objects.create(room_id=room_id)
        else:
            found = Identity.objects.select_for_update().filter(pk=identity_id, room_id=room_id).first()
            if found is None:
                raise ServiceError("That person is not in this room any more. Reload the page and try again.")
            identity = found
        previous = face.identity_id
        source = Identity.objects.filter(pk=previous).first() if previous is not None else None
        changes = {
            "face": face.pk,
            "from": _identity_record(source) if source is not None else None,
            "pinned": face.pinned,
            "ignored": face.ignored,
            "to": identity.pk,
            "created": identity_id is None,
        }
        face.identity = identity
        face.pinned = True
        face.ignored = False
        face.save(update_fields=["identity", "pinned", "ignored"])
        if previous != identity.pk:
            _delete_if_empty(previous)
        edit = _record_edit(room_id, PeopleEdit.Kind.MOVE, identity, changes)
    return edit


def _record_edit(room_id: int, kind: str, identity: Identity, changes: dict[str, Any]) -> PeopleEdit:
    """Record an edit the host can undo, keeping only the room's newest KEPT_EDITS (called under the room lock)."""
    edit = PeopleEdit.objects.create(room_id=room_id, kind=kind, identity=identity, changes=changes)
    # Undo is offered on the note of the edit just made: older records only grow the table (a merge records every
    # face it moved), so a room keeps its last few dozen.
    stale = PeopleEdit.objects.filter(room_id=room_id).order_by("-created_at", "-id").values_list("pk", flat=True)
    PeopleEdit.objects.filter(pk__in=list(stale[KEPT_EDITS:])).delete()
    return edit


def undo_edit(*, edit: PeopleEdit) -> PeopleEdit:
    """Undo a merge or a move: bring back the people and put back the faces it changed.

    Faces changed again since the edit (moved elsewhere, marked "not a face") stay where the host put
    them; a person the undo leaves without faces is not kept.
    """
    with transaction.atomic():
        lock_room(edit.room_id)
        edit = PeopleEdit.objects.select_for_update().get(pk=edit.pk)
        if edit.undone_at is not None:
            raise Conflict("This change was undone already.")
        if edit.kind == PeopleEdit.Kind.MERGE:
            _undo_merge(edit)
        else:
            _undo_move(edit)
        edit.undone_at = timezone.now()
        edit.save(update_fields=["undone_at"])
    return edit


def _undo_merge(edit: PeopleEdit) -> None:
    changes = edit.changes
    target_id = changes["target"]["id"]
    if not Identity.objects.filter(pk=target_id, room_id=edit.room_id).exists():
        raise Conflict("The merged person no longer exists, so the merge cannot be undone.")
    restored = {target_id: _restore_identity(edit.room_id, changes["target"])}
    for record in changes["absorbed"]:
        restored[record["id"]] = _restore_identity(edit.room_id, record)
    still_merged = {
        face.pk: face
        for face in Face.objects.select_for_update().filter(
            pk__in=[f["id"] for f in changes["faces"]], identity_id=target_id, ignored=False
        )
    }
    put_back = []
    for record in changes["faces"]:
        face = still_merged.get(record["id"])
        if face is not None:
            face.identity_id = record["identity"]
            face.pinned = record["pinned"]
            put_back.append(face)
    Face.objects.bulk_update(put_back, ["identity", "pinned"])
    for identity_id in restored:
        _delete_if_empty(identity_id)


def _undo_move(edit: PeopleEdit) -> None:
    changes = edit.changes
    face = Face.objects.select_for_update().filter(pk=changes["face"]).first()
    if face is None or face.identity_id != changes["to"] or face.ignored:
        raise Conflict("This face was changed again since, so the move cannot be undone.")
    source = _restore_identity(edit.room_id, changes["from"]) if changes["from"] else None
    face.identity = source
    face.pinned = changes["pinned"]
    face.ignored = changes["ignored"]
    face.save(update_fields=["identity", "pinned", "ignored"])
    _delete_if_empty(changes["to"])


def set_identity_cover(*, identity: Identity, face_id: int | None) -> Identity:
    """Choose the face that stands for a person (None: back to their best face)."""
    with transaction.atomic():
        identity = _locked_identity(identity)
        if face_id is not None and not Face.objects.filter(pk=face_id, identity=identity, ignored=False).exists():
            raise ServiceError("That face is not one of this person's. Reload the page and try again.")
        identity.cover_id = face_id
        identity.save(update_fields=["cover"])
    return identity


def ignore_face(*, face: Face, ignored: bool = True) -> Face:
    """Mark a detection as "not a face" (it leaves its identity and every later clustering), or undo it."""
    with transaction.atomic():
        lock_room(Photo.objects.filter(pk=face.photo_id).values_list("room_id", flat=True).get())
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


def identities_for_room(room: Room) -> QuerySet[Identity]:
    """Return the room's identities with their face and photo counts."""
    return Identity.objects.filter(room=room).annotate(
        face_count=Count("faces", filter=Q(faces__ignored=False), distinct=True),
        photo_count=Count("faces__photo", filter=Q(faces__ignored=False), distinct=True),
    )


def merge_suggestions(room: Room) -> list[tuple[Identity, Identity, float]]:
    """Return pairs of people whose faces are close but not close enough to be joined, nearest first.

    The host answers each: "same person" merges them, "two people" keeps them apart for good.
    """
    faces = [
        face
        for face in Face.objects.filter(
            photo__room=room, ignored=False, identity__isnull=False, photo__status=ProcessingStatus.DONE
        ).only("id", "photo_id", "identity_id", "embedding")
        if face.embedded
    ]
    if not faces:
        return []
    answered = {frozenset(pair) for pair in KeptApart.objects.filter(room=room).values_list("first_id", "second_id")}
    pairs = pipeline_identities.suggest_merges(
        np.stack([f.embedding_array() for f in faces]),
        [f.identity_id for f in faces],
        photo_keys=[f.photo_id for f in faces],
        exclude=answered,
    )
    people = Identity.objects.in_bulk({key for a, b, _ in pairs for key in (a, b)})
    return [(people[a], people[b], float(d)) for a, b, d in pairs if a in people and b in people]


def keep_apart(*, room: Room, identity_ids: list[int]) -> None:
    """Remember that two people of the room are two people: their pair is not suggested again."""
    ids = sorted({int(i) for i in identity_ids})
    if len(ids) != 2:
        raise ServiceError("Choose the two people who are not the same person.")
    with transaction.atomic():
        lock_room(room.pk)
        if Identity.objects.filter(room=room, pk__in=ids).count() != 2:
            raise ServiceError("One of these people no longer exists. Reload the page and try again.")
        KeptApart.objects.get_or_create(room=room, first_id=ids[0], second_id=ids[1])
