"""The reveal: each hidden friend's face in the crowd, after and before the swap, for players who finished.

The crops are cut on the server from the published result and from the original crowd photo, so a
player's browser never gets the crowd photo itself, and gets no crop at all before finishing (the
play views check that). Crops are cached: every player who finishes asks for the same few.
"""

from __future__ import annotations

from typing import Any

import cv2
from django.core.cache import cache

from crowdswap.lib.errors import ServiceError
from rooms.services.uploads import read_stored_rgb
from swaps import game
from swaps.models import Swap
from swaps.pipeline import images

CROP_MAX_SIDE = 480  # pixels; cards show the crop at about 160 CSS px, twice that on a phone
CROP_CACHE_SECONDS = 24 * 3600
AFTER, BEFORE = "after", "before"


def has_before(swap: Swap) -> bool:
    """Return whether the original crowd photo still exists and the answer key says where each face was in it.

    The published picture is re-rendered as a whole (cropped, resampled), so the crowd photo's own boxes are
    kept beside the picture's; versions made before that match the crowd photo pixel for pixel.
    """
    crowd = swap.crowd_photo
    if not (crowd and crowd.image):
        return False
    return all("crowd_box" in e for e in swap.answer_key) or (crowd.width, crowd.height) == (swap.width, swap.height)


def _crowd_box(swap: Swap, identity_id: int) -> list[float] | None:
    for entry in swap.answer_key:
        if int(entry["identity"]) == int(identity_id):
            return [float(v) for v in entry.get("crowd_box", entry["box"])]
    return None


def reveal_cards(swap: Swap) -> list[dict[str, Any]]:
    """Return, per hidden friend, where the face sits in its crop (for a thin outline) and what crops exist."""
    before = has_before(swap)
    cards = []
    for entry in swap.answer_key:
        box = game.as_box(entry["box"])
        crop = game.reveal_crop(box, swap.width, swap.height)
        cards.append(
            {
                "identity": int(entry["identity"]),
                "outline": list(game.outline_in_crop(box, crop, swap.width, swap.height)),
                "before": before,
            }
        )
    return cards


def crop_jpeg(*, swap: Swap, identity_id: int, which: str) -> bytes:
    """Return one friend's face as a JPEG crop of the result ("after") or of the original crowd ("before")."""
    box = swap.answer_for(identity_id)
    if box is None:
        raise ServiceError("That person is not hidden in this picture.")
    width, height = swap.width, swap.height
    if which == BEFORE:
        crowd = swap.crowd_photo
        if crowd is None or not has_before(swap):
            raise ServiceError("The original crowd photo of this challenge was deleted.")
        source = crowd.image
        box = _crowd_box(swap, identity_id) or box
        width, height = crowd.width, crowd.height
    elif which == AFTER:
        source = swap.image
    else:
        raise ServiceError('Ask for the "before" or the "after" picture.')
    key = f"reveal-crop:{swap.pk}:{source.name}:{int(identity_id)}:{which}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    rgb = read_stored_rgb(source)
    x0, y0, x1, y1 = game.reveal_crop(game.as_box(box), width, height)
    crop = rgb[y0:y1, x0:x1]
    side = max(crop.shape[:2])
    if side > CROP_MAX_SIDE:
        scale = CROP_MAX_SIDE / side
        crop = cv2.resize(
            crop, (round(crop.shape[1] * scale), round(crop.shape[0] * scale)), interpolation=cv2.INTER_AREA
        )
    jpeg = images.encode_jpeg(crop, quality=88)
    cache.set(key, jpeg, timeout=CROP_CACHE_SECONDS)
    return jpeg
