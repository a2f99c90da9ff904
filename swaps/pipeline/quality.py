"""Measure a finished swap as a player would meet it: who it looks like, whether it is still a face, how it blends."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from . import expression, faces, fit, texture, traits

CHEEKS = traits.CHEEKS


@dataclass
class SwapQuality:
    """Figures of one swapped face against the same face before the swap."""

    detected: bool
    rank: int  # the friend's rank among the room's people for the re-embedded face (1 = nearest), 0 if not detected
    nearest: str
    sharpness_ratio: float
    noise_ratio: float
    colour_neck: float  # Lab distance of the swapped cheeks to the target's own neck
    colour_forehead: float  # ... and to its forehead above the mask
    colour_neck_before: float  # the same distances for the untouched face, for scale
    colour_forehead_before: float
    expression_change: float  # expression.mismatch between the target before and the swapped face

    def as_json(self) -> dict[str, Any]:
        """Return the figures as plain JSON values."""
        return {key: (round(value, 3) if isinstance(value, float) else value) for key, value in self.__dict__.items()}


def reembed(rgb: np.ndarray, target: faces.Face) -> faces.Face | None:
    """Return the face found again where ``target`` was in ``rgb`` (detected in a crop around it), or None."""
    left, top, width, height = target.box
    pad = max(width, height)
    x0, y0 = max(0, left - pad), max(0, top - pad)
    x1, y1 = min(rgb.shape[1], left + width + pad), min(rgb.shape[0], top + height + pad)
    size = fit.face_size(target)
    found = faces.detect_faces(rgb[y0:y1, x0:x1], min_face_px=max(20, int(size * 0.7)))
    best, overlap = None, 0.0
    for face in found:
        box = (face.box[0] + x0, face.box[1] + y0, face.box[2], face.box[3])
        iou = faces.box_iou(box, target.box)
        if iou > overlap:
            best, overlap = face, iou
    if best is None or overlap < 0.4:
        return None
    best.landmarks = best.landmarks + np.array([x0, y0])
    if best.mesh is not None:
        best.mesh = best.mesh + np.array([x0, y0, 0.0])
    best.box = (best.box[0] + x0, best.box[1] + y0, best.box[2], best.box[3])
    return best


def rank_of(friend: str, embedding: np.ndarray, people: Mapping[str, np.ndarray]) -> tuple[int, str]:
    """Return the friend's rank (1 = nearest) among ``people`` for ``embedding``, and the nearest person."""
    ordered = sorted(people, key=lambda name: fit.identity_distance(people[name], embedding))
    return ordered.index(friend) + 1, ordered[0]


def face_region(shape: tuple[int, int], landmarks: np.ndarray, shrink: float = 0.8) -> np.ndarray:
    """Return a uint8 mask of the face inside its outline, shrunk toward the nose so no background is in it."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    outline = points[30] + (points[:27] - points[30]) * shrink
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(outline).astype(np.int32)), 255)
    return mask


def _patch_lab(lab: np.ndarray, landmarks: np.ndarray, where: str) -> np.ndarray | None:
    """Return the median Lab of the target's neck (below the chin) or forehead (above the mask), or None."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    size = float(max(np.ptp(points, axis=0)))
    if where == "neck":
        centre = points[8] + np.array([0.0, 0.18 * size])
    else:
        # Above the swap's forehead points (brows pushed 0.3 away from the nose tip), still below most hairlines.
        brows = points[17:27].mean(axis=0)
        centre = brows + (brows - points[30]) * 0.45
    half = max(1, int(0.08 * size))
    x, y = int(centre[0]), int(centre[1])
    patch = lab[max(0, y - half) : y + half + 1, max(0, x - half) : x + half + 1]
    if patch.size == 0:
        return None
    return np.median(patch.reshape(-1, 3), axis=0)


def _cheeks_lab(lab: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    mask = np.zeros(lab.shape[:2], dtype=np.uint8)
    for polygon in CHEEKS:
        cv2.fillConvexPoly(mask, np.round(landmarks[list(polygon)]).astype(np.int32), 255)
    return np.median(lab[mask > 0], axis=0) if mask.any() else np.zeros(3)


def measure(
    before: np.ndarray, after: np.ndarray, target: faces.Face, friend: str, people: Mapping[str, np.ndarray]
) -> SwapQuality:
    """Return the quality figures of the swap of ``friend`` onto ``target`` (``before`` and ``after`` images)."""
    landmarks = np.asarray(target.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    region = face_region(before.shape[:2], landmarks)
    sharp_before = texture.sharpness(before, region)
    noise_before = texture.noise(before, region)
    sharp_ratio = texture.sharpness(after, region) / sharp_before if sharp_before > 0 else 0.0
    noise_ratio = texture.noise(after, region) / noise_before if noise_before > 0 else 0.0
    # Lab in 8-bit units (L 0..255), as OpenCV gives it: comparable with the tests' figures.
    lab_before = cv2.cvtColor(before, cv2.COLOR_RGB2LAB).astype(np.float64)
    lab_after = cv2.cvtColor(after, cv2.COLOR_RGB2LAB).astype(np.float64)
    cheeks_before, cheeks_after = _cheeks_lab(lab_before, landmarks), _cheeks_lab(lab_after, landmarks)
    distances = []
    for where in ("neck", "forehead"):
        own = _patch_lab(lab_before, landmarks, where)
        if own is None:
            distances.extend([float("nan"), float("nan")])
        else:
            distances.extend([float(np.linalg.norm(cheeks_after - own)), float(np.linalg.norm(cheeks_before - own))])
    again = reembed(after, target)
    if again is None:
        rank, nearest, change = 0, "", float("nan")
    else:
        rank, nearest = rank_of(friend, again.embedding, people)
        change = expression.mismatch(traits.expression_of(target), expression.read(again.landmarks))
    return SwapQuality(
        detected=again is not None,
        rank=rank,
        nearest=nearest,
        sharpness_ratio=sharp_ratio,
        noise_ratio=noise_ratio,
        colour_neck=distances[0],
        colour_forehead=distances[2],
        colour_neck_before=distances[1],
        colour_forehead_before=distances[3],
        expression_change=change,
    )


def scaled(face: faces.Face, factor: float) -> faces.Face:
    """Return ``face`` as it is in its photo resized by ``factor`` (box, landmarks and size scaled; its look, read at
    the old size, marked to be read again: hiding.annotate_missing)."""
    left, top, width, height = face.box
    box = (round(left * factor), round(top * factor), max(1, round(width * factor)), max(1, round(height * factor)))
    quality = {**face.quality, "size": float(face.quality.get("size", width)) * factor}
    quality.pop(traits.VERSION_KEY, None)
    mesh = None if face.mesh is None else face.mesh * factor
    return faces.Face(box=box, landmarks=face.landmarks * factor, embedding=face.embedding, quality=quality, mesh=mesh)


def recognisable_at(
    rgb: np.ndarray,
    target: faces.Face,
    friend: Hashable,
    source_rgb: np.ndarray,
    source: faces.Face,
    people: Mapping[Hashable, np.ndarray],
    size: float,
) -> bool:
    """Return whether ``friend`` swapped onto ``target`` shrunk to ``size`` px is still nearest that friend."""
    from . import swap

    factor = size / fit.face_size(target)
    small = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    shrunk = scaled(target, factor)
    result = swap.swap_faces(small, [(source_rgb, source, shrunk)])
    again = reembed(result, shrunk)
    if again is None:
        return False
    return min(people, key=lambda name: fit.identity_distance(people[name], again.embedding)) == friend
