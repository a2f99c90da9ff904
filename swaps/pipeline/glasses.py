"""Find the glasses a face wears and their frames: a swap keeps them in front of the friend's face."""

from __future__ import annotations

import cv2
import numpy as np

from . import masks

# Frames are thin lines: a morphological top-hat / black-hat this wide (fraction of the face size) picks them out.
LINE_WIDTH_FRACTION = 0.06
# Median line response across the nose bridge. Measured on the 61 identity faces of 80 px and more and group-cc0.jpg:
# glasses 72 (thin rimless metal), 109 and 130; without glasses at most 46 (a furrowed brow).
BRIDGE_MIN_RESPONSE = 60.0
# From this face size the bridge is read at the photo's own resolution.
MIN_FACE_PX = 80.0
# Smaller faces (down to SMALL_FACE_PX) are enlarged to WORK_FACE_PX first; their frames are a pixel wide and
# blurred, so the bridge's line is fainter. Measured on the 247 hosting faces of the shared crowds and 16 group
# photos of other people (24-139 px), read enlarged: 17 and more on 34 of the ~45 faces wearing glasses and on 5
# of ~200 without (a laughing mouth's crease, a cap's shadow). Their frames themselves cannot be told from skin
# texture and JPEG blocks, so a small face wearing glasses hosts no friend (fit.py) rather than get ghost rims.
SMALL_FACE_PX = 24.0
WORK_FACE_PX = 120.0
SMALL_BRIDGE_MIN_RESPONSE = 17.0
# Where frames can be: a band along the eyes this thick and reaching this far past the face outline (fractions of
# the face size), far enough for the temple arms running to the ears.
BAND_THICKNESS_FRACTION = 0.4
BAND_REACH_FRACTION = 0.3
# A pixel is part of a frame when its response to a finer line filter (frames are thinner than the bridge's
# shadowed nose) exceeds this (grey levels).
FRAME_WIDTH_FRACTION = 0.035
FRAME_MIN_RESPONSE = 30.0


def _line_response(grey: np.ndarray, width: int) -> np.ndarray:
    """Return how strongly each pixel of ``grey`` belongs to a thin dark or bright line (grey levels)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (width, width))
    dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
    bright = cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)
    return np.maximum(dark, bright).astype(np.float32)


def _face_size(landmarks: np.ndarray) -> float:
    return float(max(np.ptp(landmarks[:68], axis=0)))


def _bridge_response(rgb: np.ndarray, landmarks: np.ndarray) -> float:
    """Return the median line response across the nose bridge between the eyes (grey levels)."""
    face_size = _face_size(landmarks)
    width = max(3, int(face_size * LINE_WIDTH_FRACTION) | 1)
    inner_left, inner_right = sorted((float(landmarks[39, 0]), float(landmarks[42, 0])))
    gap = inner_right - inner_left
    # The middle half of the gap between the inner eye corners, from the inner brows down to the nose's middle.
    x0, x1 = int(inner_left + gap / 4), int(inner_right - gap / 4)
    y0, y1 = int(min(landmarks[21, 1], landmarks[22, 1])), int(landmarks[29, 1])
    pad = 2 * width
    gx0, gy0 = max(0, x0 - pad), max(0, y0 - pad)
    gx1, gy1 = min(rgb.shape[1], x1 + pad), min(rgb.shape[0], y1 + pad)
    if x1 <= x0 or y1 <= y0 or gx1 <= gx0 or gy1 <= gy0:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[gy0:gy1, gx0:gx1]), cv2.COLOR_RGB2GRAY)
    strip = _line_response(grey, width)[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0]
    if strip.size == 0:
        return 0.0
    # A bridge crosses the whole strip, so the median of a row is high only on the bridge's row.
    return float(np.median(strip, axis=1).max())


def _enlarged(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the face's surroundings enlarged so the face is ``WORK_FACE_PX`` across, and its landmarks there."""
    face_size = _face_size(landmarks)
    low = np.maximum(np.floor(landmarks[:68].min(axis=0) - face_size * 0.3).astype(int), 0)
    high = np.ceil(landmarks[:68].max(axis=0) + face_size * 0.3).astype(int)
    crop = np.ascontiguousarray(rgb[low[1] : high[1], low[0] : high[0]])
    scale = WORK_FACE_PX / max(face_size, 1.0)
    if crop.size == 0:
        return crop, landmarks[:68] - low
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC), (landmarks[:68] - low) * scale


def wears_glasses(rgb: np.ndarray, landmarks: np.ndarray) -> bool:
    """Return whether the face at ``landmarks`` wears glasses: a line crosses its nose bridge between the eyes."""
    face_size = _face_size(landmarks)
    if face_size >= MIN_FACE_PX:
        return _bridge_response(rgb, landmarks) >= BRIDGE_MIN_RESPONSE
    if face_size < SMALL_FACE_PX:
        return False
    enlarged, local = _enlarged(rgb, landmarks)
    return enlarged.size > 0 and _bridge_response(enlarged, local) >= SMALL_BRIDGE_MIN_RESPONSE


def frames_mask(rgb: np.ndarray, landmarks: np.ndarray, worn: bool | None = None) -> np.ndarray:
    """Return a uint8 mask of the glasses frames around the face at ``landmarks`` (empty when it wears none).

    ``worn`` says whether the face wears glasses when the caller knows (read at the photo's own size: enlarged,
    a face's frames are fainter).
    """
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    if not (wears_glasses(rgb, landmarks) if worn is None else worn):
        return mask
    face_size = _face_size(landmarks)
    eyes_left, eyes_right = landmarks[36:42].mean(axis=0), landmarks[42:48].mean(axis=0)
    axis = eyes_right - eyes_left
    axis /= float(np.linalg.norm(axis)) or 1.0
    centre = (eyes_left + eyes_right) / 2.0
    # Reach past the outline on both sides along the eye line: a turned head shows one arm running to the ear.
    along = (landmarks[:68] - centre) @ axis
    reach = face_size * BAND_REACH_FRACTION
    start = centre + axis * (float(along.min()) - reach)
    end = centre + axis * (float(along.max()) + reach)
    band = np.zeros_like(mask)
    thickness = max(3, int(face_size * BAND_THICKNESS_FRACTION))
    cv2.line(band, tuple(int(v) for v in np.round(start)), tuple(int(v) for v in np.round(end)), 255, thickness)
    width = max(3, int(face_size * FRAME_WIDTH_FRACTION) | 1)
    grey = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    # An enlarged face's frames are as faint as its bridge: the threshold follows the bridge's response.
    threshold = min(FRAME_MIN_RESPONSE, 0.5 * max(_bridge_response(rgb, landmarks), 40.0))
    mask[(_line_response(grey, width) >= threshold) & (band > 0)] = 255
    # The eyes and brows are thin dark lines too, but they are the face, not the glasses.
    shape = (rgb.shape[0], rgb.shape[1])
    mask[masks.features_mask(shape, landmarks, face_size * 0.03, masks.BROWS + masks.EYES) > 0] = 0
    # Take the frame's soft, anti-aliased edge too.
    grow = max(1, int(face_size * 0.01))
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
