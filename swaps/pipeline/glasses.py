"""Find the glasses a face wears and paint their frames out, so no stray rim or temple arm outlives a swap."""

from __future__ import annotations

import cv2
import numpy as np

from . import masks

# Frames are thin lines: a morphological top-hat / black-hat this wide (fraction of the face size) picks them out.
LINE_WIDTH_FRACTION = 0.06
# Median line response across the nose bridge. Measured on the 61 identity faces of 80 px and more and group-cc0.jpg:
# glasses 72 (thin rimless metal), 109 and 130; without glasses at most 46 (a furrowed brow).
BRIDGE_MIN_RESPONSE = 60.0
# Below this face size the bridge is a pixel or two and a leftover rim is invisible anyway.
MIN_FACE_PX = 80.0
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


def wears_glasses(rgb: np.ndarray, landmarks: np.ndarray) -> bool:
    """Return whether the face at ``landmarks`` wears glasses: a line crosses its nose bridge between the eyes."""
    face_size = _face_size(landmarks)
    if face_size < MIN_FACE_PX:
        return False
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
        return False
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[gy0:gy1, gx0:gx1]), cv2.COLOR_RGB2GRAY)
    strip = _line_response(grey, width)[y0 - gy0 : y1 - gy0, x0 - gx0 : x1 - gx0]
    if strip.size == 0:
        return False
    # A bridge crosses the whole strip, so the median of a row is high only on the bridge's row.
    return float(np.median(strip, axis=1).max()) >= BRIDGE_MIN_RESPONSE


def frames_mask(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Return a uint8 mask of the glasses frames around the face at ``landmarks`` (empty when it wears none)."""
    mask = np.zeros(rgb.shape[:2], dtype=np.uint8)
    if not wears_glasses(rgb, landmarks):
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
    mask[(_line_response(grey, width) >= FRAME_MIN_RESPONSE) & (band > 0)] = 255
    # The eyes and brows are thin dark lines too, but they are the face, not the glasses.
    shape = (rgb.shape[0], rgb.shape[1])
    mask[masks.features_mask(shape, landmarks, face_size * 0.03, masks.BROWS + masks.EYES) > 0] = 0
    # Take the frame's soft, anti-aliased edge too.
    grow = max(1, int(face_size * 0.01))
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))


def remove_frames(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Return ``rgb`` with the frames of the glasses the face at ``landmarks`` wears painted out (a copy)."""
    mask = frames_mask(rgb, landmarks)
    if not mask.any():
        return rgb.copy()
    radius = max(2.0, _face_size(landmarks) * 0.03)
    return cv2.inpaint(np.ascontiguousarray(rgb), mask, radius, cv2.INPAINT_TELEA)
