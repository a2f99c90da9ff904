"""Choose which crowd face each friend replaces: the one-to-one placement of best fit, plus lookalikes for the host."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from . import fit
from .faces import Face

# Any hashable key (Identity ids, names, cluster labels); a TypeVar because Mapping keys are invariant.
Key = TypeVar("Key", bound=Hashable)
Friend = np.ndarray | Sequence[Face]

# The cost of a pair below the floor: the assignment takes one only when nothing else is left, and it is dropped.
FORBIDDEN = 1e3
# A re-roll adds up to this much noise to each fit: enough to swap between near-equal faces, never to pick a poor one
# over a good one.
REROLL_JITTER = 0.08
# How much the difficulty leans on the face size (per px of the face above the floor, capped at 40 px).
SIZE_PREFERENCE = {"easy": 0.004, "normal": 0.0, "hard": -0.002}


@dataclass
class Match:
    """One friend hidden in place of one crowd face, and how well they fit it."""

    identity: Hashable
    target: int
    distance: float
    cost: float
    fit: fit.Fit | None = None


@dataclass
class Placement:
    """Where each friend goes, and why the friends left out were left out."""

    matches: list[Match]
    unplaced: dict[Hashable, str] = field(default_factory=dict)


def _identity_distance(embeddings: np.ndarray, target: np.ndarray) -> float:
    return fit.identity_distance(embeddings, target)


def fits(
    friends: Mapping[Key, Friend],
    crowd: Sequence[Face],
    *,
    image_size: tuple[int, int] | None = None,
    difficulty: str = "normal",
) -> dict[Key, list[fit.Fit]]:
    """Return, per friend, their fit on every crowd face (in crowd order)."""
    profiles = {key: fit.profile(value) for key, value in friends.items()}
    return {
        key: [fit.pair_fit(prof, face, image_size=image_size, difficulty=difficulty) for face in crowd]
        for key, prof in profiles.items()
    }


def place(
    friends: Mapping[Key, Friend],
    crowd: Sequence[Face],
    *,
    image_size: tuple[int, int] | None = None,
    difficulty: str = "normal",
    pins: Mapping[Key, int] | None = None,
    seed: int | None = None,
    count: int | None = None,
    good_only: bool | None = None,
) -> Placement:
    """Return the placement of best total fit, never below the floor; ``count`` keeps the best-fitting friends.

    ``pins`` fixes a friend to a crowd face (refused when below the floor); ``seed`` re-rolls among near-equal
    placements. ``good_only`` (the default with ``count``: the choice is automatic) places friends on faces they fit
    well (a "good" verdict, ``fit.good_from``) only; pins still need only the floor, the host chose them.
    """
    if good_only is None:
        good_only = count is not None
    keys = list(friends)
    if not keys or not crowd:
        return Placement([], {key: "no crowd face to place on" for key in keys})
    table = fits(friends, crowd, image_size=image_size, difficulty=difficulty)
    scores = np.array([[f.score for f in table[key]] for key in keys])
    allowed = np.array([[f.allowed for f in table[key]] for key in keys])
    fair_only: set[Key] = set()
    if good_only:
        # A friend who fits only fairly stands out (fit.good_from): left out, with their best face's fit in words.
        good = np.array([[f.verdict == "good" for f in table[key]] for key in keys])
        good[[keys.index(key) for key in (pins or {}) if key in friends], :] = True
        fair_only = {key for row, key in enumerate(keys) if allowed[row].any() and not (allowed[row] & good[row]).any()}
        allowed &= good

    def why_not(key: Key) -> str:
        if key in fair_only:
            return "fits this crowd only fairly: " + "; ".join(_best_allowed(table[key]).reasons)
        return _why_not(table[key])

    if seed is not None:
        scores = scores + np.random.default_rng(seed).uniform(0.0, REROLL_JITTER, scores.shape)
    sizes = np.array([fit.face_size(face) for face in crowd])
    lean = SIZE_PREFERENCE[difficulty] * np.clip(sizes - fit.MIN_FACE_PX[difficulty], 0.0, 40.0)
    cost = np.where(allowed, 1.0 - scores - lean[None, :], FORBIDDEN)
    unplaced: dict[Hashable, str] = {}
    refused: set[int] = set()
    for key, column in (pins or {}).items():
        if key not in friends or not 0 <= column < len(crowd):
            continue
        row = keys.index(key)
        if not allowed[row, column]:
            unplaced[key] = "pinned face refused: " + "; ".join(table[key][column].reasons)
            refused.add(row)
            continue
        pinned = cost[row, column]
        cost[:, column] = FORBIDDEN * 10
        cost[row, :] = FORBIDDEN * 10
        cost[row, column] = pinned - FORBIDDEN  # always taken
    for row in refused:
        cost[row, :] = FORBIDDEN * 10
    rows, cols = linear_sum_assignment(cost)
    matches: list[Match] = []
    for r, c in zip(rows, cols, strict=True):
        key, pair = keys[r], table[keys[r]][c]
        if r in refused:
            continue
        if not allowed[r, c]:
            continue  # said below: a face that fits went to another friend, or none fits
        matches.append(Match(identity=key, target=int(c), distance=pair.distance, cost=1.0 - pair.score, fit=pair))
    for row, key in enumerate(keys):
        if key not in unplaced and all(m.identity != key for m in matches):
            if allowed[row].any():
                unplaced[key] = "every face that fits went to a friend who fits it better"
            else:
                unplaced[key] = why_not(key)
    if count is not None and len(matches) > count:
        # The best-fitting friends for this crowd; place those again so they get the best faces among themselves.
        kept = sorted(matches, key=lambda m: -(m.fit.score if m.fit else 0.0))[:count]
        chosen = {m.identity: friends[m.identity] for m in kept}  # type: ignore[index]
        pinned = {k: v for k, v in (pins or {}).items() if k in chosen}
        again = place(
            chosen, crowd, image_size=image_size, difficulty=difficulty, pins=pinned, seed=seed, good_only=good_only
        )
        dropped = {m.identity: "other friends fit this crowd better" for m in matches if m.identity not in chosen}
        return Placement(again.matches, {**unplaced, **dropped, **again.unplaced})
    order = {key: index for index, key in enumerate(keys)}
    matches.sort(key=lambda m: order[m.identity])  # type: ignore[index]
    return Placement(matches, unplaced)


def _best_allowed(row: Sequence[fit.Fit]) -> fit.Fit:
    """Return the best fit among the faces a friend may go on."""
    return max((each for each in row if each.allowed), key=lambda each: each.score)


def _why_not(row: Sequence[fit.Fit]) -> str:
    """Return why no face took a friend: the reason of the least bad face."""
    # The face that came nearest: one refused only for its score says more than a higher score refused outright.
    best = max(row, key=lambda f: (not f.vetoed, f.score))
    return "no crowd face fits: " + "; ".join(best.reasons)


def assign(
    identities: Mapping[Key, Friend],
    crowd: Sequence[Face],
    *,
    image_size: tuple[int, int],
    source_yaws: Mapping[Key, float] | None = None,
    difficulty: str = "normal",
) -> list[Match]:
    """Return the one-to-one placement of best total fit (Hungarian); friends that fit no face are left out."""
    # source_yaws is accepted for callers written before fit: the fit reads head turns from the friend's faces.
    del source_yaws
    return place(identities, crowd, image_size=image_size, difficulty=difficulty).matches


def lookalikes(friend: Friend, crowd: Sequence[Face], *, k: int = 5) -> list[tuple[int, float]]:
    """Return the ``k`` plausible crowd faces nearest to one friend as (crowd index, distance), nearest first."""
    if not crowd or len(friend) == 0:
        return []
    prof = fit.profile(friend)
    # A lookalike the fit would never allow (another gender, another skin tone) is no suggestion; size is the game's
    # setting, not a reason to hide a lookalike, so the most lenient one applies.
    scored = [
        (index, pair.distance)
        for index, face in enumerate(crowd)
        if (pair := fit.pair_fit(prof, face, difficulty="hard")).allowed or _only_small(pair)
    ]
    scored.sort(key=lambda item: (item[1], item[0]))
    return scored[:k]


def _only_small(pair: fit.Fit) -> bool:
    """Return whether the face size is all that keeps a pair below the floor."""
    return (
        bool(pair.reasons)
        and all(reason.startswith("face too small") for reason in pair.reasons[:1])
        and (pair.score >= fit.FLOOR)
    )
