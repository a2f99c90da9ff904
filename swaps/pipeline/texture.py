"""Keep the target's skin: its fine texture (pores, stubble, grain, noise) and its sharpness, under a friend's features.

A face is split by frequency. The lowest band is light and skin tone (the colour match gives the friend the target's),
the middle band is who someone is (eyes, brows, nose, mouth, face shape: the friend's), the finest band is skin and
camera (pores, stubble, grain, JPEG noise: the target's). The finest band is cut at a fixed fraction of the face
size, so a 40 px face and a 400 px face are split alike.
"""

from __future__ import annotations

from itertools import pairwise

import cv2
import numpy as np

# The finest band: details smaller than this fraction of the face (about 2 px on a 160 px face).
FINE_FRACTION = 0.012
FINE_MIN_SIGMA = 0.6
# Sharpness is the energy of the finest band against the next one (px sigmas), so it measures focus and not
# contrast: a friend with dark brows and a stranger with fair ones, both in focus, read alike. Noise is the deviation
# from a 3x3 median.
SHARP_SIGMAS = (0.5, 1.0, 2.0)
# Each of those bands of a swapped face is raised to the target's energy, by at most this gain (match_detail).
DETAIL_MAX_GAIN = 1.6
# Sharpness and noise within this ratio of the target's count as matched (the benchmark's goal is 0.8-1.25).
MATCHED = (0.9, 1.1)
# Bisection steps for the grain's strength (each halves the interval; it stops early once within MATCHED).
NOISE_STEPS = 10
_BLURS = (0.35, 0.5, 0.7, 0.9, 1.2, 1.6)
# Local contrast: the band between these fractions of the face size (the shading of nose, sockets and cheeks, the
# features' outlines). A swap's is raised to the target's, by at most CONTRAST_MAX_GAIN (measured) and
# CONTRAST_MAX_AMOUNT times its own band added. In paired tests of the blind swaps it changed (each rendered with and
# without, side by side in random order, two fresh viewers each): raised halfway (the band amplified by the
# shortfall) against not at all, 22:4 and 26:0 ("the other washed out, flat, blurrier than the hair"); raised all
# the way against halfway, 18:6 and 20:4.
CONTRAST_BAND = (0.03, 0.08)
CONTRAST_MAX_GAIN = 1.3
CONTRAST_MAX_AMOUNT = 2.0
# Sharpening only restores edges a resize softened: a wider (sigma 1.0, gain 1.2) unsharp mask drew dark halos on a
# 36 px face (measured on stadium.jpg).
SHARPEN_SIGMA = 0.6
_SHARPENS = (0.2, 0.4, 0.6, 0.8, 1.1, 1.4)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)


def _grey(rgb: np.ndarray) -> np.ndarray:
    image = np.asarray(rgb, dtype=np.float32)
    return image @ np.array([0.299, 0.587, 0.114], dtype=np.float32) if image.ndim == 3 else image


def fine_sigma(face_size: float) -> float:
    """Return the blur (px) below which detail counts as skin and camera rather than features."""
    return max(FINE_MIN_SIGMA, face_size * FINE_FRACTION)


def _detail_bands(rgb: np.ndarray) -> list[np.ndarray]:
    """Return the grey picture's detail finer than SHARP_SIGMAS[0], then between each two of SHARP_SIGMAS."""
    grey = _grey(rgb)
    blurs = [grey] + [_blur(grey, sigma) for sigma in SHARP_SIGMAS]
    return [finer - coarser for finer, coarser in pairwise(blurs)]


def _rms(band: np.ndarray, inside: np.ndarray) -> float:
    return float(np.sqrt(np.mean(band[inside] ** 2)))


def sharpness(rgb: np.ndarray, region: np.ndarray) -> float:
    """Return the focus of ``rgb`` inside ``region``: RMS of the finest band over RMS of the next coarser band."""
    inside = region > 0
    if not inside.any():
        return 0.0
    _, fine, coarse = _detail_bands(rgb)
    high, low = _rms(fine, inside), _rms(coarse, inside)
    return high / low if low > 0 else 0.0


def match_detail(result: np.ndarray, target: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Return ``result`` (float RGB) with each of its fine bands in ``region`` as strong as the target's.

    Focus (match_sharpness) is a ratio of two bands, so it holds when both are weak: a swapped small face carried
    10-25% less energy than the face before in every band finer than 2 px, on skin and features alike, and read as
    "softer than the hair", "smeared" (blind sets). Each band of the result's own detail is amplified to the target's
    energy, by at most DETAIL_MAX_GAIN, never lowered.
    """
    result_f = np.asarray(result, dtype=np.float32)
    inside = np.asarray(region) > 0
    if inside.sum() < 16:
        return result_f
    added = np.zeros(result_f.shape[:2], dtype=np.float32)
    for own, wanted in zip(_detail_bands(result_f), _detail_bands(target), strict=True):
        energy = _rms(own, inside)
        if energy > 0:
            added += (float(np.clip(_rms(wanted, inside) / energy, 1.0, DETAIL_MAX_GAIN)) - 1.0) * own
    return result_f + (added * _blur(inside.astype(np.float32), 1.0))[..., None]


def noise(rgb: np.ndarray, region: np.ndarray) -> float:
    """Return the pixel noise of ``rgb`` inside ``region`` (median absolute deviation from a 3x3 median)."""
    grey = _grey(rgb)
    residual = grey - cv2.medianBlur(np.clip(grey, 0, 255).astype(np.uint8), 3).astype(np.float32)
    values = residual[region > 0]
    return float(np.median(np.abs(values))) * 1.4826 if values.size else 0.0


def keep_fine_band(result: np.ndarray, target: np.ndarray, weight: np.ndarray, face_size: float) -> np.ndarray:
    """Return ``result`` (float RGB) with its finest band replaced by the target's where ``weight`` (0..1) is high."""
    sigma = fine_sigma(face_size)
    result_f = np.asarray(result, dtype=np.float32)
    target_f = np.asarray(target, dtype=np.float32)
    fine_result = result_f - _blur(result_f, sigma)
    fine_target = target_f - _blur(target_f, sigma)
    w = np.asarray(weight, dtype=np.float32)[..., None]
    return result_f + w * (fine_target - fine_result)


def _adjust(image: np.ndarray, amount: float) -> np.ndarray:
    """Return ``image`` blurred (amount < 0: sigma -amount) or sharpened (amount > 0: unsharp mask of that gain)."""
    if amount < 0:
        return _blur(image, -amount)
    return image + amount * (image - _blur(image, SHARPEN_SIGMA))


def match_sharpness(result: np.ndarray, target: np.ndarray, region: np.ndarray) -> tuple[np.ndarray, float]:
    """Return ``result`` (float RGB) blurred or sharpened so its edge energy in ``region`` is the target's, and the gain.

    The friend's photo is usually sharper than a crowd face and sometimes softer; either stands out next to the faces
    around it.
    """
    wanted = sharpness(target, region)
    current = sharpness(result, region)
    if wanted <= 0 or current <= 0 or MATCHED[0] <= current / wanted <= MATCHED[1]:
        return np.asarray(result, dtype=np.float32), 0.0
    candidates = [-sigma for sigma in _BLURS] if current > wanted else list(_SHARPENS)
    best_amount, best_gap = 0.0, abs(np.log(current / wanted))
    for amount in candidates:
        gap = abs(np.log(max(sharpness(_adjust(result, amount), region), 1e-6) / wanted))
        if gap < best_gap:
            best_amount, best_gap = amount, gap
    return _adjust(np.asarray(result, dtype=np.float32), best_amount), best_amount


def match_noise(result: np.ndarray, target: np.ndarray, region: np.ndarray, seed: int) -> np.ndarray:
    """Return ``result`` (float RGB) with grain added in ``region`` up to the target's noise level, never beyond it.

    The median-based estimate does not add up in quadrature (a 3x3 median absorbs weak grain, then lets strong grain
    through), so the strength is found by bisection: a one-step correction from what the first try reached overshot
    to 1.5x the target on faces of selfie-many-people.jpg and sprinkled 24-40 px swaps with speckles.
    """
    wanted = noise(target, region)
    current = noise(result, region)
    base = np.asarray(result, dtype=np.float32)
    if current >= wanted * MATCHED[0] or wanted <= 0:
        return base
    # The grain is grey with a little colour, like a camera's.
    rng = np.random.default_rng(seed)
    grain = rng.normal(0.0, 1.0, result.shape[:2]).astype(np.float32)[..., None]
    grain = grain + rng.normal(0.0, 0.3, result.shape).astype(np.float32)
    grain *= (np.asarray(region, dtype=np.float32) > 0).astype(np.float32)[..., None]
    low, high = 0.0, 2.0 * float(np.sqrt(wanted**2 - current**2))
    for _ in range(NOISE_STEPS):
        middle = (low + high) / 2.0
        reached = noise(base + grain * middle, region)
        if reached > wanted:
            high = middle
        else:
            low = middle
            if reached >= wanted * MATCHED[0]:
                break
    return base + grain * low


def _band(image: np.ndarray, face_size: float) -> np.ndarray:
    fine, coarse = (max(0.5, face_size * fraction) for fraction in CONTRAST_BAND)
    return _blur(image, fine) - _blur(image, coarse)


def local_contrast(rgb: np.ndarray, region: np.ndarray, face_size: float) -> float:
    """Return the RMS of ``rgb``'s local-contrast band (CONTRAST_BAND of ``face_size``) inside ``region`` (> 0.5)."""
    inside = np.asarray(region) > 0.5
    if not inside.any():
        return 0.0
    return float(np.sqrt(np.mean(_band(_grey(rgb), face_size)[inside] ** 2)))


def match_contrast(result: np.ndarray, target: np.ndarray, region: np.ndarray, face_size: float) -> np.ndarray:
    """Return ``result`` (float RGB) with its local contrast raised to the target's within ``region`` (0..1).

    A friend photo lit flat from the front, warped and resampled, came out flatter than the face it replaced: "washed
    out", "soft next to the sharp hair" (blind test). The result's own band is added until the measured contrast is
    the target's, at most CONTRAST_MAX_GAIN times its own. Never lowered: crisp, defined eyes read as natural.
    """
    result_f = np.asarray(result, dtype=np.float32)
    wanted, current = local_contrast(target, region, face_size), local_contrast(result_f, region, face_size)
    if current <= 0 or wanted <= current:
        return result_f
    added = _band(result_f, face_size) * np.asarray(region, dtype=np.float32)[..., None]
    # The band of the band is about half the band: measure how far one unit goes, and take what closes the gap.
    unit = local_contrast(result_f + added, region, face_size) - current
    if unit <= 0:
        return result_f
    amount = (min(wanted, current * CONTRAST_MAX_GAIN) - current) / unit
    return result_f + float(np.clip(amount, 0.0, CONTRAST_MAX_AMOUNT)) * added
