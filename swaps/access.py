"""The one lookup per resource of crowds and swaps: for the room's owner, and for anybody with a share link."""

from typing import Any

from django.shortcuts import get_object_or_404

from rooms.access import get_room_for_owner
from swaps.models import CrowdPhoto, Swap
from swaps.services.play import ensure_open


def get_crowd_for_owner(user: Any, room_id: int, crowd_id: int) -> CrowdPhoto:
    """Return one crowd photo of the user's room, else 404."""
    return get_object_or_404(CrowdPhoto, pk=crowd_id, room=get_room_for_owner(user, room_id))


def get_swap_for_owner(user: Any, room_id: int, swap_id: int) -> Swap:
    """Return one swap version of the user's room, else 404."""
    return get_object_or_404(Swap, pk=swap_id, room=get_room_for_owner(user, room_id))


def get_shared_swap(token: str) -> Swap:
    """Return the swap behind a share token, open or not; 404 for a token nobody has."""
    return get_object_or_404(Swap.objects.select_related("room"), share_token=token)


def get_published_swap(token: str) -> Swap:
    """Return the playable swap behind a share token: 404 for unknown tokens, Gone for a closed challenge."""
    swap = get_shared_swap(token)
    ensure_open(swap)
    return swap
