"""Rooms: create, rename, list and delete (with every file stored under the room)."""

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Q, QuerySet

from crowdswap.jobs.models import Job
from crowdswap.lib.errors import NotAllowed, ServiceError
from crowdswap.lib.files import delete_files, walk_storage
from rooms.models import Face, Photo, ProcessingStatus, Room


def create_room(*, owner: Any, title: str, description: str = "") -> Room:
    """Create a challenge room owned by this user, within the user's quota of rooms."""
    title = title.strip()
    if not title:
        raise ServiceError("Give the room a title.")
    limit = settings.MAX_ROOMS_PER_USER
    if Room.objects.filter(owner=owner).count() >= limit:
        raise NotAllowed(f"You have {limit} rooms, the most an account can have. Delete a room to create another.")
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


def room_storage_prefix(room_id: int) -> str:
    """Return the storage prefix every file of the room lives under (photos, faces, crowds, swaps)."""
    return f"rooms/{room_id}"


def delete_room(*, room: Room) -> None:
    """Delete a room, its rows, its jobs and every file it owns in storage."""
    room_id, group_name = room.pk, room.group_name
    names = {n for n in Photo.objects.filter(room=room).values_list("image", flat=True) if n}
    names.update(n for n in Face.objects.filter(photo__room=room).values_list("thumbnail", flat=True) if n)
    with transaction.atomic():
        room.delete()
        # A queued job of a deleted room would only find its rows gone; a running one stops at its next step.
        Job.objects.filter(group_name=group_name).delete()

    def purge() -> None:
        delete_files(default_storage, names)
        # Every other file of the room (crowd photos, swap results, files written by jobs that raced the
        # delete) lives under the room's prefix: walking it catches them all.
        delete_files(default_storage, list(walk_storage(default_storage, room_storage_prefix(room_id))))

    # Files go only once the rows are gone for good: a rolled-back delete keeps its pictures.
    transaction.on_commit(purge)


def rooms_for_owner(owner: Any) -> QuerySet[Room]:
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
