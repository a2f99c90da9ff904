"""Where a swap may paint: the skin a face shows, told apart from hair and background by colour."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

# Eyes, brows, nose and mouth are never skin-coloured but always belong to the face.
BROWS = (slice(17, 22), slice(22, 27))
EYES = (slice(36, 42), slice(42, 48))
EYES_NOSE_MOUTH = (slice(27, 36), *EYES, slice(48, 60))
FEATURE_GROUPS = BROWS + EYES_NOSE_MOUTH
# The skin sample is the face shrunk toward the nose tip: the outline itself may already run through hair.
SAMPLE_SHRINK = 0.75
# Mahalanobis distances (in Lab, to the face's own skin) at which a pixel stops counting as skin, softly.
SKIN_NEAR = 2.5
SKIN_FAR = 4.5


# Eyes whose median lightness is less than this (L*) under their skin's are shut or behind glasses' glare: a shut eye
# is lid and lashes, as light as the skin on the whole however dark its lashes. Measured (traits' eye_darkness) on the
# 172 hosting faces of 40 px and more of 16 group photos: 0.9 for the one woman with her eyes shut (linzaer's 6.jpg,
# a friend placed on her was caught in four of five large-face blind sets), -11 to 1.8 for four faces behind glasses
# with glare and a 42 px face whose eyes do not show, from 4.7 for every other face (5% of them under 5.5, the
# median 19).
EYES_SHUT_DARKNESS = 3.0


def eye_darkness(lightness: np.ndarray, eyes: np.ndarray, skin_lightness: float) -> float:
    """Return how much darker (L*) the ``eyes`` of a face are than its skin, as a whole (their median)."""
    return skin_lightness - float(np.median(lightness[eyes]))


def feather(mask: np.ndarray, sigma: float) -> np.ndarray:
    """Return ``mask`` (0..1 or bool) blurred by ``sigma`` px, full again inside: blurring halves an edge, 1.5x brings
    the mask's own pixels back to (nearly) 1 while its outside fades."""
    return np.clip(cv2.GaussianBlur(np.asarray(mask, dtype=np.float32), (0, 0), sigma) * 1.5, 0.0, 1.0)


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """Return ``rgb`` (uint8 or float 0..255) as float32 Lab (L 0..100, a and b about -127..127)."""
    scaled = np.clip(np.asarray(rgb, dtype=np.float32), 0, 255) / 255.0
    return cv2.cvtColor(scaled, cv2.COLOR_RGB2LAB)


def from_lab(lab: np.ndarray) -> np.ndarray:
    """Return float32 Lab (as ``to_lab`` gives it) as float32 RGB 0..255."""
    return (cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_LAB2RGB) * 255.0).astype(np.float32)


def disc(radius: float) -> np.ndarray:
    """Return an elliptical structuring element of ``radius`` px (at least 1) for dilating and eroding masks."""
    r = max(1, int(radius))
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


def features_mask(
    shape: tuple[int, int], landmarks: np.ndarray, grow: float, groups: tuple[slice, ...] = FEATURE_GROUPS
) -> np.ndarray:
    """Return a uint8 mask of the landmark ``groups`` (brows, eyes, nose, mouth), each grown by ``grow`` pixels."""
    mask = np.zeros(shape, dtype=np.uint8)
    for group in groups:
        cv2.fillConvexPoly(mask, cv2.convexHull(np.round(landmarks[group]).astype(np.int32)), 255)
    return cv2.dilate(mask, disc(grow))


def skin_sample_mask(shape: tuple[int, int], landmarks: np.ndarray) -> np.ndarray:
    """Return a uint8 mask of the cheeks, the nose and the skin between the brows: skin on nearly every face."""
    centre = landmarks[30]
    outline = centre + (landmarks[:27] - centre) * SAMPLE_SHRINK
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(outline).astype(np.int32)), 255)
    face_size = float(max(np.ptp(landmarks, axis=0)))
    # Eyes, brows, lips and nostrils would widen the skin model until hair fits in it too.
    mask[features_mask(shape, landmarks[:60], face_size * 0.04) > 0] = 0
    # The nose itself is skin: put its bridge and tip back.
    nose = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(nose, cv2.convexHull(np.round(landmarks[[27, 31, 35]]).astype(np.int32)), 255)
    mask[nose > 0] = 255
    return mask


@dataclass(frozen=True)
class SkinModel:
    """The colour of one face's skin: a Gaussian in Lab."""

    mean: np.ndarray
    inverse: np.ndarray

    def likelihood(self, rgb: np.ndarray) -> np.ndarray:
        """Return, per pixel of ``rgb``, how much it looks like this skin (float32, 0..1)."""
        centred = to_lab(rgb) - self.mean
        distance = np.sqrt(np.maximum(np.einsum("hwi,ij,hwj->hw", centred, self.inverse, centred), 0.0))
        return np.clip((SKIN_FAR - distance) / (SKIN_FAR - SKIN_NEAR), 0.0, 1.0).astype(np.float32)


def skin_model(rgb: np.ndarray, landmarks: np.ndarray) -> SkinModel | None:
    """Return the skin colour of the face at ``landmarks`` in ``rgb``, or None when too little of it shows."""
    return skin_model_of(rgb, skin_sample_mask(rgb.shape[:2], landmarks) > 0)


def skin_model_of(rgb: np.ndarray, sample_mask: np.ndarray) -> SkinModel | None:
    """Return the skin colour of the pixels of ``rgb`` in ``sample_mask``, or None when there are too few."""
    sample = to_lab(rgb)[sample_mask]
    if len(sample) < 20:
        return None
    # Fit, drop the strays (a lock of hair, a highlight) and fit again without them.
    mean, cov = _fit(sample)
    centred = sample - mean
    distance = np.einsum("ij,jk,ik->i", centred, np.linalg.inv(cov), centred)
    mean, cov = _fit(sample[distance <= np.quantile(distance, 0.85)])
    # No extra room for lightness: blonde highlights differ from fair skin mostly in lightness (measured on
    # jennifer_aniston/img56.jpg, where doubling it let a strand of hair back onto the cheek).
    return SkinModel(mean=mean.astype(np.float32), inverse=np.linalg.inv(cov).astype(np.float32))


def skin_likelihood(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Return, per pixel of ``rgb``, how much it looks like the skin of the face at ``landmarks`` (float32, 0..1)."""
    model = skin_model(rgb, landmarks)
    if model is None:
        return np.ones(rgb.shape[:2], dtype=np.float32)
    return model.likelihood(rgb)


def _fit(sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the mean and (regularised) covariance of Lab ``sample`` rows."""
    # The floor keeps a flat-lit, uniform face from rejecting its own pores and shadows.
    return sample.mean(axis=0), np.cov(sample, rowvar=False) + np.diag([4.0, 1.0, 1.0])
