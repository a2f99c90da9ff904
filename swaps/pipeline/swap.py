"""Put a friend's face onto a crowd face: Delaunay warp, skin-only mask, colour and light transfer, seamless cloning."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
from scipy.spatial import Delaunay

from . import glasses, masks
from .faces import Face, preference

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
# Brows, eyes, nose and mouth are kept whatever their colour, grown by this fraction of the face size. Measured on
# group-cc0.jpg: at 0.03 the turned woman's swap (jennifer_aniston/img56.jpg) was nearer the stranger; 0.06 keeps
# enough of the friend around the eyes and mouth.
FEATURE_GROW_FRACTION = 0.06
BROW_GROW_FRACTION = 0.02
# The shared-skin map is smoothed over this fraction of the face size so pores and JPEG blocks leave no holes.
SKIN_SMOOTH_FRACTION = 0.06
# The skin restriction and the light transfer start at faces this large (hull size in px) and are complete this many
# px later. On the ~35 px stadium.jpg faces they cost likeness (sundar_pichai became nearer the stranger, 12/13) and
# a strand of hair there is a pixel or two.
SKIN_MASK_FROM_PX = 60.0
SKIN_MASK_FULL_SPAN_PX = 60.0
# Low-frequency light: the friend's face takes the target's shading, blurred over this fraction of the face size.
# Measured on group-cc0.jpg (median cheek colour off by, jennifer_aniston/img56.jpg): 0.5 -> 10, 0.3 -> 5, 0.2 -> 2
# Lab units, with all three swaps still nearer the friend.
LIGHT_BLUR_FRACTION = 0.2
LIGHT_MAX_SHIFT = 25.0  # in Lab lightness units (0..100): enough for a shadowed cheek, not for a hand in front
# The source is shrunk to at most this multiple of the target first: warping a 500 px face onto 40 px wastes time.
SOURCE_OVERSAMPLE = 2.0


def best_source(faces: Sequence[Face], target: Face | None = None) -> int:
    """Return the index of the face that makes the best swap source (large, frontal, sharp; turned like ``target``)."""
    if not faces:
        raise ValueError("no faces to choose a source from")
    target_yaw = None if target is None else float(target.quality.get("yaw", 0.0))

    def rank(index: int) -> tuple[bool, float, float]:
        face = faces[index]
        usable, score, size = preference(face.quality, face.usable)
        if target_yaw is not None:
            # A head turned the same way as the target needs far less warping than a frontal one.
            score -= 0.5 * abs(float(face.quality.get("yaw", 0.0)) - target_yaw)
        return (usable, score, size)

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
    out = np.zeros((*out_shape, source.shape[2]), dtype=np.float32)
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


def _match_colour(
    warped: np.ndarray, target: np.ndarray, skin: np.ndarray, face_size: float, shading: float = 1.0
) -> np.ndarray:
    """Return ``warped`` with the target's skin tone (mean and spread in Lab over ``skin``) and ``shading`` of its light."""
    if skin.sum() < 10:
        return np.clip(warped, 0, 255).astype(np.uint8)
    src_lab = masks.to_lab(warped)
    dst_lab = masks.to_lab(target)
    for channel in range(3):
        src_values = src_lab[..., channel][skin]
        dst_values = dst_lab[..., channel][skin]
        src_std = float(src_values.std()) or 1.0
        # Clamp the spread ratio: a flat-lit crowd face must not blow the friend's contrast up (or erase it).
        ratio = float(np.clip(float(dst_values.std()) / src_std, 0.6, 1.6))
        src_lab[..., channel] = (src_lab[..., channel] - float(src_values.mean())) * ratio + float(dst_values.mean())
    # One mean per face cannot give a turned head its lit and its shadowed side: add the difference of the two
    # faces' skin lightness, blurred so it carries the light and not the stranger's features.
    weight = skin.astype(np.float32)
    kernel = (_odd(face_size * LIGHT_BLUR_FRACTION),) * 2
    coverage = cv2.GaussianBlur(weight, kernel, 0)
    difference = (dst_lab[..., 0] - src_lab[..., 0]) * weight
    light = cv2.GaussianBlur(difference, kernel, 0) / np.maximum(coverage, 1e-3)
    # Far from any shared skin (eyes on a small face, the mask's rim) the estimate fades out rather than guesses.
    light *= np.clip(coverage / 0.3, 0.0, 1.0) * shading
    src_lab[..., 0] += np.clip(light, -LIGHT_MAX_SHIFT, LIGHT_MAX_SHIFT)
    src_lab[..., 0] = np.clip(src_lab[..., 0], 0.0, 100.0)
    rgb = cv2.cvtColor(src_lab, cv2.COLOR_LAB2RGB) * 255.0
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def _solid(region: np.ndarray) -> np.ndarray:
    """Return ``region`` as a uint8 mask of its largest piece with the holes filled (seamlessClone needs one blob)."""
    mask = region.astype(np.uint8) * 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(labels == largest, 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    return filled


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

    # The friend's skin likelihood travels with the pixels through the warp, as a fourth channel.
    src_skin = masks.skin_likelihood(src_crop, local_src[:68]) * 255.0
    warped_all = _warp_triangles(
        np.dstack([src_crop.astype(np.float32), src_skin]), local_src, local_dst, roi.shape[:2]
    )
    warped, warped_skin = warped_all[..., :3], warped_all[..., 3] / 255.0
    local_target = target_all + margin - np.array([x0, y0])
    # The friend's eyes come without the stranger's glasses: rims and temple arms left around them would float.
    roi = glasses.remove_frames(roi, local_target)
    roi_skin = masks.skin_likelihood(roi, local_target)

    hull = cv2.convexHull(np.round(local_dst[HULL_POINTS]).astype(np.int32))
    hull_mask: np.ndarray = np.zeros(roi.shape[:2], dtype=np.uint8)
    cv2.fillConvexPoly(hull_mask, hull, 255)
    erode = max(1, int(face_size * ERODE_FRACTION))
    hull_mask = cv2.erode(hull_mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * erode + 1, 2 * erode + 1)))
    # Paint only where both faces show skin (or the friend's brows, eyes, nose and mouth): the hull of the landmarks
    # also covers the friend's hair at the temples and the stranger's fringe, and pasting one onto the other is the
    # first thing a person notices.
    features = (
        np.maximum(
            masks.features_mask(roi.shape[:2], local_dst, face_size * FEATURE_GROW_FRACTION, masks.EYES_NOSE_MOUTH),
            # Brows grow less: the friend's hair often starts right at their outer ends.
            masks.features_mask(roi.shape[:2], local_dst, face_size * BROW_GROW_FRACTION, masks.BROWS),
        )
        / 255.0
    )
    shared = np.minimum(warped_skin, roi_skin)
    shared = cv2.GaussianBlur(shared, (_odd(face_size * SKIN_SMOOTH_FRACTION),) * 2, 0)
    keep = np.maximum(features, np.clip((shared - 0.5) / 0.4, 0.0, 1.0))
    # On small faces a few pixels of hair go unseen, while a patchy colour model costs the friend's likeness.
    strength = float(np.clip((face_size - SKIN_MASK_FROM_PX) / SKIN_MASK_FULL_SPAN_PX, 0.0, 1.0))
    soft = (1.0 - strength + strength * keep) * (hull_mask / 255.0)
    mask = _solid(soft > 0.5)
    if cv2.countNonZero(mask) < 16:
        return canvas
    skin = (np.minimum(warped_skin, roi_skin) > 0.6) & (mask > 0) & (features == 0)
    # Tone from the skin both faces show: the hull's hair, brows and eyes made large faces lighter and cooler than
    # the stranger's neck (measured on group-cc0.jpg: median cheek colour 45 Lab units off, now at most 2.2).
    stats_region = skin if skin.sum() >= 50 else mask > 0
    corrected = _match_colour(warped, roi, stats_region, face_size, shading=strength)

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
