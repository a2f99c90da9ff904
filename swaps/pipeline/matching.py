"""Choose which crowd face each friend replaces: one-to-one assignment, plus lookalikes for the host."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from scipy.optimize import linear_sum_assignment

from .faces import Face

# Any hashable key (Identity ids, names, cluster labels); a TypeVar because Mapping keys are invariant.
Key = TypeVar("Key", bound=Hashable)

# Penalties are in embedding-distance units (same-person distances are ~0.4, strangers ~0.7+), so each one
# outweighs a modest likeness gain but never a clearly better match.
POSE_PENALTY = 0.3  # per unit of yaw difference (yaw runs -1..1) or of missing frontalness
TINY_FACE_PX = 48.0  # below this a swapped face is a smudge nobody can find
TINY_PENALTY = 0.25
BORDER_PENALTY = 0.5  # per fraction of the face cut by the picture's edge
EDGE_MARGIN = 0.02  # faces this close (fraction of image side) to an edge count as touching it


@dataclass
class Match:
    """One friend hidden in place of one crowd face."""

    identity: Hashable
    target: int
    distance: float
    cost: float


def _identity_distance(embeddings: np.ndarray, target: np.ndarray) -> float:
    """Return the mean distance from ``target`` to the identity's three nearest faces (robust to one odd photo)."""
    distances = np.sort(np.linalg.norm(np.asarray(embeddings, dtype=np.float64).reshape(-1, 128) - target, axis=1))
    return float(distances[: min(3, len(distances))].mean())


def _target_penalty(face: Face, image_size: tuple[int, int], source_yaw: float | None) -> float:
    """Return the extra cost of swapping into ``face``: turned away, tiny or cut by the border."""
    width, height = image_size
    quality = face.quality
    frontalness = float(quality.get("frontalness", 1.0))
    if source_yaw is None:
        penalty = POSE_PENALTY * (1.0 - frontalness)
    else:
        penalty = POSE_PENALTY * abs(float(quality.get("yaw", 0.0)) - source_yaw)
    size = float(quality.get("size", float(np.sqrt(face.box[2] * face.box[3]))))
    if size < TINY_FACE_PX:
        penalty += TINY_PENALTY * (TINY_FACE_PX - size) / TINY_FACE_PX
    inside = float(quality.get("inside", 1.0))
    left, top, box_w, box_h = face.box
    touches = (
        left <= EDGE_MARGIN * width
        or top <= EDGE_MARGIN * height
        or left + box_w >= (1 - EDGE_MARGIN) * width
        or top + box_h >= (1 - EDGE_MARGIN) * height
    )
    penalty += BORDER_PENALTY * (1.0 - inside) + (0.05 if touches else 0.0)
    return penalty


def assign(
    identities: Mapping[Key, np.ndarray],
    crowd: Sequence[Face],
    *,
    image_size: tuple[int, int],
    source_yaws: Mapping[Key, float] | None = None,
) -> list[Match]:
    """Return the globally cheapest one-to-one placement of identities onto crowd faces (Hungarian)."""
    keys = list(identities)
    if not keys or not crowd:
        return []
    distance = np.array([[_identity_distance(identities[key], face.embedding) for face in crowd] for key in keys])
    cost = distance.copy()
    for row, key in enumerate(keys):
        yaw: float | None = None if source_yaws is None else source_yaws.get(key)
        for col, face in enumerate(crowd):
            cost[row, col] += _target_penalty(face, image_size, yaw)
    # scipy returns the rows in ascending order, so matches come back in the order identities were given.
    rows, cols = linear_sum_assignment(cost)
    return [
        Match(identity=keys[r], target=int(c), distance=float(distance[r, c]), cost=float(cost[r, c]))
        for r, c in zip(rows, cols, strict=True)
    ]


def lookalikes(embeddings: np.ndarray, crowd: Sequence[Face], *, k: int = 5) -> list[tuple[int, float]]:
    """Return the ``k`` crowd faces nearest to one identity as (crowd index, distance), nearest first."""
    if not crowd or len(embeddings) == 0:
        return []
    scored = [(index, _identity_distance(embeddings, face.embedding)) for index, face in enumerate(crowd)]
    scored.sort(key=lambda item: (item[1], item[0]))
    return scored[:k]
