"""Hide friends in a crowd photo end to end: fit, placement, source photo per face, swap, and a recognisability check.

This is the one call the app's swap job and the command line make; everything it needs comes in as arguments.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

import numpy as np

from . import faces, fit, matching, quality, swap, traits
from .faces import Face

Key = TypeVar("Key", bound=Hashable)

# How many of a friend's photos are tried on one face before the face is given up as unrecognisable.
SOURCES_TRIED = 2


@dataclass
class Hidden:
    """One friend hidden in the result: where (crowd index), from which of their faces, how well they fit."""

    identity: Hashable
    target: int
    source: int
    fit: fit.Fit
    rank: int  # the friend's rank among the room's people for the swapped face, embedded again (1 = nearest)
    mirrored: bool = False  # the source photo was used mirrored (see swap.best_source)


@dataclass
class Result:
    """The swapped picture, the hidden friends and, for each friend left out, why."""

    image: np.ndarray
    hidden: list[Hidden]
    unplaced: dict[Hashable, str] = field(default_factory=dict)


def annotate_missing(rgb: np.ndarray, found: Sequence[Face]) -> None:
    """Add the look and expression traits to the faces of ``rgb`` that do not have them, or have an older reading.

    ``found`` should be all the photo's faces: the small faces' skin tones are pooled over them (traits.pool_skin_tone),
    also when some were read apart.
    """
    missing = [face for face in found if not traits.is_current(face.quality)]
    if missing:
        traits.annotate(rgb, missing)
    traits.pool_skin_tone(found)


def hide_friends(
    crowd_rgb: np.ndarray,
    crowd: Sequence[Face],
    friends: Mapping[Key, Sequence[Face]],
    load_photo: Callable[[Key, int], np.ndarray],
    *,
    count: int | None = None,
    pins: Mapping[Key, int] | None = None,
    seed: int | None = None,
    difficulty: str = "normal",
    room: Mapping[Key, np.ndarray] | None = None,
    verify: bool = True,
    progress: Callable[[float, str], None] | None = None,
) -> Result:
    """Return ``crowd_rgb`` with the best-fitting friends hidden in it.

    ``friends`` maps each friend to their faces; ``load_photo(friend, index)`` returns the photo of that face.
    ``room`` holds the embeddings of every person of the room (default: the friends) for the recognisability check:
    a swapped face that, embedded again, is not nearest its friend is undone and the friend reported unplaced.
    """
    annotate_missing(crowd_rgb, crowd)
    photos: dict[tuple[Key, int], np.ndarray] = {}

    def photo(key: Key, index: int) -> np.ndarray:
        if (key, index) not in photos:
            photos[(key, index)] = load_photo(key, index)
        return photos[(key, index)]

    for key, found in friends.items():
        for index, face in enumerate(found):
            if not traits.is_current(face.quality):
                traits.annotate(photo(key, index), [face])
    height, width = crowd_rgb.shape[:2]
    placement = matching.place(
        friends, crowd, image_size=(width, height), difficulty=difficulty, pins=pins, seed=seed, count=count
    )
    people: dict[Key, np.ndarray] = dict(room) if room is not None else {}
    for key, found in friends.items():
        people.setdefault(key, np.array([face.embedding for face in found]))
    canvas = np.ascontiguousarray(crowd_rgb, dtype=np.uint8).copy()
    hidden: list[Hidden] = []
    unplaced = dict(placement.unplaced)
    total = max(len(placement.matches), 1)
    for done, match in enumerate(placement.matches):
        if progress is not None:
            progress(done / total, f"swapping face {done + 1} of {total}")
        friend = cast(Key, match.identity)  # place() returns the keys it was given
        found = list(friends[friend])
        target = crowd[match.target]
        for attempt, (index, mirrored) in enumerate(_sources_for(found, target)):
            source_rgb, source = faces.oriented(photo(friend, index), found[index], mirrored)
            result = swap._swap_one(canvas, source_rgb, source, target, seed=done)
            rank = _rank(result, target, friend, people) if verify else 1
            if rank == 1 or not verify:
                canvas = result
                assert match.fit is not None
                hidden.append(Hidden(match.identity, match.target, index, match.fit, rank, mirrored))
                break
            if attempt + 1 >= SOURCES_TRIED:
                unplaced[match.identity] = "not recognisable on the faces that fit (too small or too different)"
                break
    if progress is not None:
        progress(1.0, "swaps done")
    return Result(image=canvas, hidden=hidden, unplaced=unplaced)


def _sources_for(found: Sequence[Face], target: Face) -> list[swap.Source]:
    """Return the friend's faces to try on ``target`` (index, mirrored), best first."""
    order: list[swap.Source] = []
    remaining = list(range(len(found)))
    while remaining and len(order) < SOURCES_TRIED:
        best = swap.best_source([found[i] for i in remaining], target)
        order.append(swap.Source(remaining[best.face_index], best.mirrored))
        remaining.remove(remaining[best.face_index])
    return order


def _rank(result: np.ndarray, target: Face, key: Key, people: Mapping[Key, np.ndarray]) -> int:
    """Return the friend's rank among ``people`` for the swapped face (0 when it is no longer found)."""
    again = quality.reembed(result, target)
    if again is None:
        return 0
    ordered = sorted(people, key=lambda name: fit.identity_distance(people[name], again.embedding))
    return ordered.index(key) + 1
