"""The one lookup per resource of a room, for its owner: used by HTML views, the API and sockets alike.

Every lookup goes through the owner's rooms, so another user gets 404 and never learns that it exists.
"""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from rooms.models import Face, Identity, PeopleEdit, Photo, Room


def get_room_for_owner(user: Any, room_id: int) -> Room:
    """Return the room if ``user`` owns it, else 404."""
    if not getattr(user, "is_authenticated", False):
        raise Http404("No such room.")
    return get_object_or_404(Room, pk=room_id, owner=user)


def get_photo_for_owner(user: Any, room_id: int, photo_id: int) -> Photo:
    """Return one friend's photo of the user's room, else 404."""
    return get_object_or_404(Photo, pk=photo_id, room=get_room_for_owner(user, room_id))


def get_identity_for_owner(user: Any, room_id: int, identity_id: int) -> Identity:
    """Return one person of the user's room, else 404."""
    return get_object_or_404(Identity, pk=identity_id, room=get_room_for_owner(user, room_id))


def get_face_for_owner(user: Any, room_id: int, face_id: int) -> Face:
    """Return one detected face of the user's room, else 404."""
    return get_object_or_404(
        Face.objects.select_related("photo"), pk=face_id, photo__room=get_room_for_owner(user, room_id)
    )


def get_edit_for_owner(user: Any, room_id: int, edit_id: int) -> PeopleEdit:
    """Return one undoable edit of the people of the user's room, else 404."""
    return get_object_or_404(PeopleEdit, pk=edit_id, room=get_room_for_owner(user, room_id))
