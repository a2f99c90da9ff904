"""Re-render a published picture as a whole, so a pixel diff against the public original shows no faces.

The swap changes a few faces and leaves every other pixel of the crowd photo as it was: subtracting the
original crowd (often a public photo) lit up exactly the hidden friends. Here the whole picture is
re-rendered once, slightly: a small crop (never into a hidden face), a resample to a slightly smaller size
along a gentle smooth warp of a pixel or two, and a light colour grade. Every pixel then differs from the
original, at edges and in flat areas alike, so the faces no longer stand out; a person sees the same photo.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Box = tuple[float, float, float, float]  # (x, y, w, h) as fractions of the image

CROP_FRACTION = (0.01, 0.03)  # of each side, before keeping hidden faces whole
SCALE = (0.95, 0.99)
# The smallest a side of the re-rendered picture can come out, as a share of the original's (less a pixel of rounding).
SMALLEST_SIDE = (1.0 - 2.0 * CROP_FRACTION[1]) * SCALE[0]
WARP_PIXELS = 1.5  # largest displacement of the smooth warp
WARP_GRID = 5  # control points per side of the warp's random field
GAIN = (0.96, 1.04)  # per channel
GAMMA = (0.94, 1.06)


@dataclass(frozen=True)
class Rendering:
    """Where the re-rendered picture came from: the crop of the original (pixels) and the output size."""

    crop: tuple[int, int, int, int]  # left, top, right, bottom in the original
    source_size: tuple[int, int]  # width, height of the original
    size: tuple[int, int]  # width, height of the re-rendered picture

    def box(self, box: Box) -> Box:
        """Return a box of the original (fractions) as fractions of the re-rendered picture, clipped to it."""
        width, height = self.source_size
        left, top, right, bottom = self.crop
        crop_w, crop_h = right - left, bottom - top
        x0 = min(max((box[0] * width - left) / crop_w, 0.0), 1.0)
        y0 = min(max((box[1] * height - top) / crop_h, 0.0), 1.0)
        x1 = min(max(((box[0] + box[2]) * width - left) / crop_w, 0.0), 1.0)
        y1 = min(max(((box[1] + box[3]) * height - top) / crop_h, 0.0), 1.0)
        return (x0, y0, x1 - x0, y1 - y0)


def _crop(width: int, height: int, keep: Sequence[Box], rng: np.random.Generator) -> tuple[int, int, int, int]:
    """Return a random small crop that leaves every box in ``keep`` whole."""
    left = round(width * rng.uniform(*CROP_FRACTION))
    top = round(height * rng.uniform(*CROP_FRACTION))
    right = width - round(width * rng.uniform(*CROP_FRACTION))
    bottom = height - round(height * rng.uniform(*CROP_FRACTION))
    for x, y, w, h in keep:
        left = min(left, int(x * width))
        top = min(top, int(y * height))
        right = max(right, int(np.ceil((x + w) * width)))
        bottom = max(bottom, int(np.ceil((y + h) * height)))
    return max(0, left), max(0, top), min(width, right), min(height, bottom)


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """Return a smooth random displacement field of at most WARP_PIXELS, float32 of ``shape``."""
    coarse = rng.uniform(-WARP_PIXELS, WARP_PIXELS, size=(WARP_GRID, WARP_GRID)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC).clip(-WARP_PIXELS, WARP_PIXELS)


def rerender(rgb: np.ndarray, *, keep: Sequence[Box] = (), seed: int | None = None) -> tuple[np.ndarray, Rendering]:
    """Return the picture re-rendered as a whole (crop, resample, warp, grade) and how to map boxes onto it.

    ``keep`` are boxes (fractions of ``rgb``) the crop must not cut into: the hidden faces.
    """
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    left, top, right, bottom = _crop(width, height, keep, rng)
    crop_w, crop_h = right - left, bottom - top
    scale = rng.uniform(*SCALE)
    out_w, out_h = max(1, round(crop_w * scale)), max(1, round(crop_h * scale))
    grid_x, grid_y = np.meshgrid(
        np.arange(out_w, dtype=np.float32) * (crop_w / out_w) + left,
        np.arange(out_h, dtype=np.float32) * (crop_h / out_h) + top,
    )
    map_x = grid_x + _smooth_field((out_h, out_w), rng)
    map_y = grid_y + _smooth_field((out_h, out_w), rng)
    out = cv2.remap(rgb, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    levels = np.arange(256, dtype=np.float32) / 255.0
    for channel in range(out.shape[2]):
        curve = np.clip(rng.uniform(*GAIN) * levels ** rng.uniform(*GAMMA) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        out[:, :, channel] = cv2.LUT(out[:, :, channel], curve)
    return out, Rendering(crop=(left, top, right, bottom), source_size=(width, height), size=(out_w, out_h))
