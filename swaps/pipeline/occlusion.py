"""Find what covers a crowd face (a flag, a glove, another head, hair over the forehead, a beard) to keep it in front."""

from __future__ import annotations

import cv2
import numpy as np

from . import masks

# Shadows change a face's lightness far more than its colour; an occluder differs in colour or in a lot of lightness.
# So the skin model gets this much more room in lightness before a pixel stops being skin.
SHADOW_ROOM = 3.0
# Pieces smaller than this fraction of the face area are pores, glints and noise, not something in front.
MIN_PIECE = 0.015
# The target's own eyes, brows, nostrils and lips are never skin-coloured, yet they are the face.
FEATURE_GROW = 0.04


def occluder_mask(rgb: np.ndarray, landmarks: np.ndarray, face_outline: np.ndarray) -> np.ndarray:
    """Return a float32 mask (0..1) of what covers the face at ``landmarks`` inside the polygon ``face_outline``.

    An occluder is non-skin inside the face that reaches the face's edge: things in front of a face come from outside
    it, while a shadow or a freckle sits inside. The target's own features are never counted.
    """
    shape = (rgb.shape[0], rgb.shape[1])
    empty = np.zeros(shape, dtype=np.float32)
    # The skin is sampled above the nostrils only: on a bearded face the whole-face sample takes the beard for skin,
    # and the beard, like a hand or a flag, is the target's and stays in front.
    sample = masks.skin_sample_mask(shape, landmarks[:68]) > 0
    rows = np.arange(shape[0], dtype=np.float64)[:, None]
    cols = np.arange(shape[1], dtype=np.float64)[None, :]
    left, right = landmarks[1], landmarks[15]
    # Above the line through the face outline at nostril height (on the face's own tilt).
    slope = (right[1] - left[1]) / (right[0] - left[0]) if abs(right[0] - left[0]) > 1e-6 else 0.0
    sample &= rows < left[1] + (cols - left[0]) * slope
    model = masks.skin_model_of(rgb, sample) or masks.skin_model(rgb, landmarks[:68])
    if model is None:
        return empty
    covariance = np.linalg.inv(model.inverse.astype(np.float64))
    covariance[0, :] *= np.sqrt(SHADOW_ROOM)
    covariance[:, 0] *= np.sqrt(SHADOW_ROOM)
    roomy = masks.SkinModel(mean=model.mean, inverse=np.linalg.inv(covariance).astype(np.float32))
    skin = roomy.likelihood(rgb)
    face = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(face, cv2.convexHull(np.round(face_outline).astype(np.int32)), 255)
    # The features' own scale, not the outline's: the mesh's outline reaches the hairline, and a size taken from it
    # grew the brows' exclusion into a fringe just above them (pasted over on stadium.jpg's 36 px faces).
    face_size = float(max(np.ptp(landmarks[:68], axis=0)))
    # The lips are grown less than the rest: a moustache and beard around them are the target's and stay in front.
    features = masks.features_mask(shape, landmarks[:68], face_size * FEATURE_GROW, masks.BROWS + masks.EYES) > 0
    features |= masks.features_mask(shape, landmarks[:68], face_size * 0.02, (slice(27, 36), slice(48, 60))) > 0
    candidate: np.ndarray = ((skin < 0.15) & (face > 0) & ~features).astype(np.uint8)
    radius = max(1, int(face_size * 0.015))
    kernel = masks.disc(radius)
    candidate = cv2.morphologyEx(candidate, cv2.MORPH_OPEN, kernel)
    # The face's rim, where something coming from outside must enter.
    rim = (face > 0) & ~(cv2.erode(face, kernel, iterations=2) > 0)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    min_area = MIN_PIECE * float((face > 0).sum())
    keep = np.zeros(shape, dtype=bool)
    for label in range(1, count):
        piece = labels == label
        if stats[label, cv2.CC_STAT_AREA] >= min_area and (piece & rim).any():
            keep |= piece
    if not keep.any():
        return empty
    # Grow a little and soften: the occluder's anti-aliased edge belongs to it.
    grown = cv2.dilate(keep.astype(np.uint8) * 255, kernel)
    return cv2.GaussianBlur(grown, (0, 0), max(0.5, radius * 0.7)).astype(np.float32) / 255.0
