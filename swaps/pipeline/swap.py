"""Put a friend's face onto a crowd face: Delaunay warp, colour transfer, feathered mask, seamless cloning."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
from scipy.spatial import Delaunay

from .faces import Face

# The mask is the hull of the jaw, brows and the forehead points added above the brows.
HULL_POINTS = slice(0, None)
FOREHEAD_LIFT = 0.3
# Brows, nose, eyes and mouth; how far they follow the friend's own layout rather than the target's.
# Measured on the 13 stadium.jpg swaps (still detected / nearer the friend): weight 0.7-0.8 with lift 0.3 gave
# 13/13 and 13/13; lift 0.2 lost one nearer-the-friend; weight 0.9 with lift 0.3 lost one detection.
INNER_POINTS = slice(17, 68)
INNER_WEIGHT = 0.8
TURNED_FRONTALNESS = 0.5  # below this frontalness the target's own layout gradually takes over
# Erosion and feathering in proportion to face size, so a 40 px face and a 400 px face blend alike.
ERODE_FRACTION = 0.05
FEATHER_FRACTION = 0.08
CORE_FEATHER_FRACTION = 0.15
# The source is shrunk to at most this multiple of the target first: warping a 500 px face onto 40 px wastes time.
SOURCE_OVERSAMPLE = 2.0


def best_source(faces: Sequence[Face], target: Face | None = None) -> int:
    """Return the index of the face that makes the best swap source (large, frontal, sharp; turned like ``target``)."""
    if not faces:
        raise ValueError("no faces to choose a source from")
    target_yaw = None if target is None else float(target.quality.get("yaw", 0.0))

    def rank(index: int) -> tuple[bool, float, float]:
        face = faces[index]
        score = float(face.quality.get("score", 0.0))
        if target_yaw is not None:
            # A head turned the same way as the target needs far less warping than a frontal one.
            score -= 0.5 * abs(float(face.quality.get("yaw", 0.0)) - target_yaw)
        return (face.usable, score, float(face.quality.get("size", 0.0)))

    return max(range(len(faces)), key=rank)


def answer_box(face: Face, image_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Return ``face.box`` as (x, y, w, h) fractions of the image's width and height, clipped to 0..1."""
    width, height = image_size
    left, top, box_w, box_h = face.box
    x0 = min(max(left / width, 0.0), 1.0)
    y0 = min(max(top / height, 0.0), 1.0)
    x1 = min(max((left + box_w) / width, 0.0), 1.0)
    y1 = min(max((top + box_h) / height, 0.0), 1.0)
    return (x0, y0, x1 - x0, y1 - y0)


def _warp_triangles(
    source: np.ndarray, src_pts: np.ndarray, dst_pts: np.ndarray, out_shape: tuple[int, int]
) -> np.ndarray:
    """Return ``source`` warped piecewise-affinely so ``src_pts`` land on ``dst_pts`` (Delaunay of the target)."""
    out = np.zeros((*out_shape, 3), dtype=np.float32)
    source_f = source.astype(np.float32)
    for simplex in Delaunay(dst_pts).simplices:
        src_tri = src_pts[simplex].astype(np.float32)
        dst_tri = dst_pts[simplex].astype(np.float32)
        x, y, w, h = cv2.boundingRect(dst_tri)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, out_shape[1]), min(y + h, out_shape[0])
        if x1 <= x0 or y1 <= y0:
            continue
        local_dst = dst_tri - np.array([x0, y0], dtype=np.float32)
        matrix = cv2.getAffineTransform(src_tri, local_dst)
        patch = cv2.warpAffine(
            source_f, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101
        )
        tri_mask = np.zeros((y1 - y0, x1 - x0), dtype=np.uint8)
        cv2.fillConvexPoly(tri_mask, np.round(local_dst).astype(np.int32), 1, lineType=cv2.LINE_8)
        region = out[y0:y1, x0:x1]
        region[tri_mask > 0] = patch[tri_mask > 0]
    return out


def _match_colour(warped: np.ndarray, target: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return ``warped`` with the mean and spread of ``target``'s skin and light inside ``mask`` (Lab space)."""
    inside = mask > 0
    if inside.sum() < 10:
        return np.clip(warped, 0, 255).astype(np.uint8)
    src_lab = cv2.cvtColor(np.clip(warped, 0, 255).astype(np.uint8), cv2.COLOR_RGB2LAB).astype(np.float32)
    dst_lab = cv2.cvtColor(target, cv2.COLOR_RGB2LAB).astype(np.float32)
    for channel in range(3):
        src_values = src_lab[..., channel][inside]
        dst_values = dst_lab[..., channel][inside]
        src_std = float(src_values.std()) or 1.0
        # Clamp the spread ratio: a flat-lit crowd face must not blow the friend's contrast up (or erase it).
        ratio = float(np.clip(float(dst_values.std()) / src_std, 0.6, 1.6))
        src_lab[..., channel] = (src_lab[..., channel] - float(src_values.mean())) * ratio + float(dst_values.mean())
    return cv2.cvtColor(np.clip(src_lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


def _destination_points(src: np.ndarray, target: np.ndarray, target_frontalness: float = 1.0) -> np.ndarray:
    """Return where each source landmark goes: the jaw on the target's jaw, inner features keep the friend's shape."""
    # Warping every point onto the target's landmarks would give the friend the stranger's eyes, nose and mouth
    # geometry, and recognisers (people and dlib) read identity mostly from that geometry. So the inner features
    # follow the friend's own layout, placed by a similarity fit, and only the outline follows the target's head.
    matrix, _ = cv2.estimateAffinePartial2D(src.astype(np.float32), target.astype(np.float32), method=cv2.LMEDS)
    if matrix is None:
        return target.copy()
    aligned = src @ matrix[:, :2].T + matrix[:, 2]
    # A flat similarity fit cannot follow a head turned away: there the features keep closer to the target's own
    # layout, or the far eye and mouth corner would float off the face.
    weight = INNER_WEIGHT * float(np.clip(target_frontalness / TURNED_FRONTALNESS, 0.0, 1.0))
    points = target.copy()
    points[INNER_POINTS] = weight * aligned[INNER_POINTS] + (1.0 - weight) * target[INNER_POINTS]
    return points


def _with_forehead(points: np.ndarray) -> np.ndarray:
    """Return the 68 landmarks plus 10 forehead points above the brows (dlib stops at the eyebrows)."""
    if FOREHEAD_LIFT <= 0:
        return points
    # Push each brow point away from the nose tip: the forehead and temples carry identity too.
    brows = points[17:27]
    forehead = brows + (brows - points[30]) * FOREHEAD_LIFT
    return np.vstack([points, forehead])


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def _swap_one(canvas: np.ndarray, source_rgb: np.ndarray, source: Face, target: Face) -> np.ndarray:
    """Return ``canvas`` with ``source``'s face put in place of ``target``'s."""
    target_all = np.asarray(target.landmarks, dtype=np.float64).reshape(68, 2)
    src_all = _with_forehead(np.asarray(source.landmarks, dtype=np.float64).reshape(68, 2))
    frontalness = float(target.quality.get("frontalness", 1.0))
    dst_all = _with_forehead(_destination_points(src_all[:68], target_all, frontalness))
    hull_w, hull_h = np.ptp(dst_all, axis=0)
    face_size = float(max(hull_w, hull_h, 8.0))
    margin = int(face_size * 0.6) + 8
    # Pad by reflection so faces touching the border still get a full working area for cloning.
    padded = cv2.copyMakeBorder(canvas, margin, margin, margin, margin, cv2.BORDER_REFLECT_101)
    dst_pts = dst_all + margin
    x0, y0 = np.floor(dst_pts.min(axis=0)).astype(int) - margin // 2
    x1, y1 = np.ceil(dst_pts.max(axis=0)).astype(int) + margin // 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, padded.shape[1]), min(y1, padded.shape[0])
    roi = padded[y0:y1, x0:x1]
    local_dst = dst_pts - np.array([x0, y0])

    # Crop (and shrink) the source around its landmarks so the warp never touches the whole friend photo.
    src_size = float(max(np.ptp(src_all, axis=0)))
    src_margin = int(src_size * 0.3) + 4
    sx0, sy0 = np.maximum(np.floor(src_all.min(axis=0)).astype(int) - src_margin, 0)
    sx1 = min(int(np.ceil(src_all[:, 0].max())) + src_margin, source_rgb.shape[1])
    sy1 = min(int(np.ceil(src_all[:, 1].max())) + src_margin, source_rgb.shape[0])
    src_crop = source_rgb[sy0:sy1, sx0:sx1]
    local_src = src_all - np.array([sx0, sy0])
    shrink_by = min(1.0, SOURCE_OVERSAMPLE * face_size / max(src_size, 1.0))
    if shrink_by < 1.0:
        size = (max(1, round(src_crop.shape[1] * shrink_by)), max(1, round(src_crop.shape[0] * shrink_by)))
        src_crop = cv2.resize(src_crop, size, interpolation=cv2.INTER_AREA)
        local_src = local_src * shrink_by

    warped = _warp_triangles(src_crop, local_src, local_dst, roi.shape[:2])

    hull = cv2.convexHull(np.round(local_dst[HULL_POINTS]).astype(np.int32))
    mask: np.ndarray = np.zeros(roi.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(mask, hull, 255)
    erode = max(1, int(face_size * ERODE_FRACTION))
    mask = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    if cv2.countNonZero(mask) < 16:
        return canvas
    corrected = _match_colour(warped, roi, mask)

    x, y, w, h = cv2.boundingRect(mask)
    center = (x + w // 2, y + h // 2)
    # seamlessClone may write into the mask it is given, so it gets a copy.
    cloned = cv2.seamlessClone(corrected, roi, mask.copy(), center, cv2.NORMAL_CLONE)
    # Poisson cloning pulls the whole face toward the target's border colours, which washes the friend's
    # features out on small faces (measured on stadium.jpg: with the clone everywhere the re-embedded face was
    # nearer the friend in 2 of 13 swaps). So the clone only carries the seam; the core is the colour-corrected
    # friend (13 of 13 with the forehead points, 11 of 13 without them).
    core = cv2.erode(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * erode + 1, 4 * erode + 1)))
    core_alpha = cv2.GaussianBlur(core, (_odd(face_size * CORE_FEATHER_FRACTION),) * 2, 0)
    core_alpha = core_alpha.astype(np.float32)[..., None] / 255.0
    cloned = corrected.astype(np.float32) * core_alpha + cloned.astype(np.float32) * (1.0 - core_alpha)
    # Feathering the clone's edge hides the seam seamlessClone can leave on hair or busy backgrounds.
    alpha = cv2.GaussianBlur(mask, (_odd(face_size * FEATHER_FRACTION),) * 2, 0).astype(np.float32)[..., None] / 255.0
    blended = cloned.astype(np.float32) * alpha + roi.astype(np.float32) * (1.0 - alpha)
    padded[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    height, width = canvas.shape[:2]
    return np.ascontiguousarray(padded[margin : margin + height, margin : margin + width])


def swap_faces(
    crowd_rgb: np.ndarray,
    pairs: Sequence[tuple[np.ndarray, Face, Face]],
    progress: Callable[[float, str], None] | None = None,
) -> np.ndarray:
    """Return ``crowd_rgb`` with each (source image, source face, target face) pair swapped in."""
    canvas = np.ascontiguousarray(crowd_rgb, dtype=np.uint8).copy()
    total = len(pairs)
    for done, (source_rgb, source, target) in enumerate(pairs):
        if progress is not None:
            progress(done / max(total, 1), f"swapping face {done + 1} of {total}")
        canvas = _swap_one(canvas, np.ascontiguousarray(source_rgb, dtype=np.uint8), source, target)
    if progress is not None:
        progress(1.0, "swaps done")
    return canvas
