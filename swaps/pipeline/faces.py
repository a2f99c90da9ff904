"""Find faces: dlib HOG detection with upsampling and tiling, 68 landmarks, 128-D embeddings, quality."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

# dlib's frontal detector scans an 80x80 window, so a face of F px is found once the image is scaled by 80 / F.
DETECTOR_WINDOW_PX = 80
# Above this many (scaled) pixels the detector runs tile by tile, so memory stays bounded on huge crowds.
TILE_SIDE = 2048
TILE_OVERLAP = 384
SINGLE_PASS_MAX_PIXELS = 12_000_000
# HOG only knows upright faces; tilted heads (selfies, leaning people) are found in two extra rotated passes, run at
# 1/1.5 of the main scale so they cost about 90% more detection (detection is ~10% of the per-face cost).
ROTATIONS_DEG = (-18.0, 18.0)
ROTATED_SCALE_FACTOR = 1.5
# Rotated hits rank below upright ones when duplicates are merged: upright boxes fit the landmarks better.
ROTATED_SCORE_PENALTY = 0.3
# A face must reach these to seed a cluster or be a swap source (measured on shared/data/identities).
USABLE_MIN_SIZE_PX = 60.0
USABLE_MIN_FRONTALNESS = 0.3
USABLE_MIN_SHARPNESS = 0.25
# A crowd face can take a friend's face with less: a target only needs landmarks good enough to
# warp onto (the friend brings the detail). Stadium front rows are 25-40 px faces; the whole
# outline must be inside the picture to blend into.
HOST_MIN_SIZE_PX = 24
HOST_MIN_INSIDE = 0.9

# A detection: left, top, right, bottom (original pixels, unclipped) and the detector's score.
Detection = tuple[float, float, float, float, float]

_lock = threading.Lock()
_models: dict[str, Any] = {}


@dataclass
class Face:
    """One face: where it is, its 68 landmarks, its 128-D embedding and how good a picture of it this is."""

    box: tuple[int, int, int, int]
    landmarks: np.ndarray
    embedding: np.ndarray
    quality: dict[str, float] = field(default_factory=dict)
    usable: bool = False

    @property
    def center(self) -> tuple[float, float]:
        """Return the centre of the box in pixels."""
        left, top, width, height = self.box
        return left + width / 2.0, top + height / 2.0


def load_models() -> None:
    """Load the detector, the 68-point predictor and the encoder now, once per process."""
    _get_models()


def _get_models() -> dict[str, Any]:
    """Return the dlib models, loading them on first use (thread-safe)."""
    if _models:
        return _models
    with _lock:
        if not _models:
            import warnings

            import dlib

            with warnings.catch_warnings():
                # face_recognition_models still imports pkg_resources; its deprecation notice is not ours to fix.
                warnings.simplefilter("ignore")
                import face_recognition_models as frm

            _models["detector"] = dlib.get_frontal_face_detector()
            _models["predictor"] = dlib.shape_predictor(frm.pose_predictor_model_location())
            _models["encoder"] = dlib.face_recognition_model_v1(frm.face_recognition_model_location())
            _models["dlib"] = dlib
    return _models


def _nms(boxes: list[Detection], iou_limit: float = 0.3) -> list[Detection]:
    """Return boxes (l, t, r, b, score) with overlapping duplicates from tiles and passes removed."""
    kept: list[Detection] = []
    for box in sorted(boxes, key=lambda item: -item[4]):
        if all(_iou_ltrb(box, other) <= iou_limit for other in kept):
            kept.append(box)
    return kept


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Return the intersection over union of two (left, top, width, height) boxes."""
    inter_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    inter_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def _iou_ltrb(a: Sequence[float], b: Sequence[float]) -> float:
    """Return the intersection over union of two (l, t, r, b, ...) boxes."""
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    # Also treat a box mostly inside another as a duplicate: tiles cut big faces into partial detections.
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return max(inter / union, inter / smaller if smaller > 0 else 0.0)


def _detect_scaled(
    rgb: np.ndarray, scale: float, threshold: float, region: tuple[int, int, int, int] | None = None
) -> list[Detection]:
    """Return detections (l, t, r, b, score) in original pixels of ``rgb`` (or of ``region`` of it) scaled by ``scale``."""
    detector = _get_models()["detector"]
    x0, y0, x1, y1 = region if region is not None else (0, 0, rgb.shape[1], rgb.shape[0])
    crop = rgb[y0:y1, x0:x1]
    if abs(scale - 1.0) > 1e-3:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        interpolation = cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA
        crop = cv2.resize(crop, size, interpolation=interpolation)
    rects, scores, _ = detector.run(np.ascontiguousarray(crop), 0, threshold)
    return [
        (x0 + r.left() / scale, y0 + r.top() / scale, x0 + r.right() / scale, y0 + r.bottom() / scale, float(s))
        for r, s in zip(rects, scores, strict=True)
    ]


def _detect_boxes(rgb: np.ndarray, min_face_px: int, threshold: float) -> list[Detection]:
    """Return face boxes (l, t, r, b, score) down to ``min_face_px``, tiling large scaled images."""
    height, width = rgb.shape[:2]
    scale = DETECTOR_WINDOW_PX / max(1, min_face_px)
    if width * height * scale * scale <= SINGLE_PASS_MAX_PIXELS:
        return _nms(_detect_scaled(rgb, scale, threshold))
    # Tiles in original pixels; each tile is upscaled on its own so the whole scaled image never exists in memory.
    tile = max(64, int(TILE_SIDE / scale))
    overlap = max(16, int(TILE_OVERLAP / scale))
    stride = tile - overlap
    found: list[Detection] = []
    for y0 in range(0, max(1, height - overlap), stride):
        for x0 in range(0, max(1, width - overlap), stride):
            found.extend(_detect_scaled(rgb, scale, threshold, (x0, y0, min(width, x0 + tile), min(height, y0 + tile))))
    # Faces wider than the overlap may be cut by every tile: find them again in one cheap downscaled pass.
    large_scale = min(scale, DETECTOR_WINDOW_PX / (overlap * 0.8))
    found.extend(_detect_scaled(rgb, large_scale, threshold))
    return _nms(found)


def _detect_rotated(rgb: np.ndarray, scale: float, angle: float, threshold: float) -> list[Detection]:
    """Return upright square boxes (l, t, r, b, score) of faces found in ``rgb`` rotated by ``angle`` degrees."""
    detector = _get_models()["detector"]
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, scale)
    out_w, out_h = round(width * scale), round(height * scale)
    matrix[0, 2] += (out_w - width) / 2.0
    matrix[1, 2] += (out_h - height) / 2.0
    rotated = cv2.warpAffine(rgb, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    inverse = cv2.invertAffineTransform(matrix)
    rects, scores, _ = detector.run(rotated, 0, threshold)
    found: list[Detection] = []
    for rect, score in zip(rects, scores, strict=True):
        cx, cy = inverse @ np.array([(rect.left() + rect.right()) / 2.0, (rect.top() + rect.bottom()) / 2.0, 1.0])
        half = (rect.right() - rect.left()) / scale / 2.0
        found.append(
            (
                float(cx - half),
                float(cy - half),
                float(cx + half),
                float(cy + half),
                float(score) - ROTATED_SCORE_PENALTY,
            )
        )
    return found


def _detect_all(rgb: np.ndarray, min_face_px: int, threshold: float) -> list[Detection]:
    """Return upright and tilted face boxes (l, t, r, b, score), duplicates merged."""
    found = list(_detect_boxes(rgb, min_face_px, threshold))
    height, width = rgb.shape[:2]
    scale = DETECTOR_WINDOW_PX / max(1, min_face_px) / ROTATED_SCALE_FACTOR
    # Rotated passes are whole-image; cap their size so a huge crowd only finds large tilted faces.
    scale = min(scale, float(np.sqrt(SINGLE_PASS_MAX_PIXELS / (width * height))))
    for angle in ROTATIONS_DEG:
        found.extend(_detect_rotated(rgb, scale, angle, threshold))
    return _nms(found)


def _frontal_yaw(landmarks: np.ndarray) -> tuple[float, float]:
    """Return (frontalness 0..1, signed yaw -1..1) from the nose's place between the jaw sides."""
    eye_axis = landmarks[45] - landmarks[36]
    norm = float(np.linalg.norm(eye_axis)) or 1.0
    axis = eye_axis / norm
    nose = float(np.dot(landmarks[30], axis))
    left = nose - float(np.dot(landmarks[0], axis))
    right = float(np.dot(landmarks[16], axis)) - nose
    left, right = max(left, 1e-3), max(right, 1e-3)
    return min(left, right) / max(left, right), (left - right) / (left + right)


def _sharpness(grey: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Return the variance of the Laplacian of the face at a fixed 96 px size, squashed to 0..1."""
    left, top, width, height = box
    crop = grey[max(0, top) : max(0, top + height), max(0, left) : max(0, left + width)]
    if crop.size == 0:
        return 0.0
    crop = cv2.resize(crop, (96, 96), interpolation=cv2.INTER_AREA if crop.shape[0] > 96 else cv2.INTER_LINEAR)
    variance = float(cv2.Laplacian(crop, cv2.CV_64F).var())
    # 150 is a typical in-focus portrait at 96 px; blur drops below ~40 (0.25).
    return 1.0 - float(np.exp(-variance / 150.0))


def _quality(
    landmarks: np.ndarray, box: tuple[int, int, int, int], raw: Detection, grey: np.ndarray
) -> dict[str, float]:
    """Return the quality signals of one face and an overall score."""
    height_img, width_img = grey.shape[:2]
    left, top, right, bottom = raw[:4]
    size = float(np.sqrt(max(1.0, (right - left) * (bottom - top))))
    inside_w = max(0.0, min(right, width_img) - max(left, 0.0))
    inside_h = max(0.0, min(bottom, height_img) - max(top, 0.0))
    inside = inside_w * inside_h / max(1.0, (right - left) * (bottom - top))
    frontalness, yaw = _frontal_yaw(landmarks)
    sharpness = _sharpness(grey, box)
    size_term = float(np.clip((size - 30.0) / 120.0, 0.0, 1.0))
    score = (0.4 * size_term + 0.35 * frontalness + 0.25 * sharpness) * inside
    return {
        "size": round(size, 2),
        "frontalness": round(frontalness, 4),
        "yaw": round(yaw, 4),
        "sharpness": round(sharpness, 4),
        "inside": round(float(inside), 4),
        "detector": round(float(raw[4]), 4),
        "score": round(float(score), 4),
    }


def detect_faces(rgb: np.ndarray, *, min_face_px: int = 40, threshold: float = 0.0, num_jitters: int = 1) -> list[Face]:
    """Return every face of at least ``min_face_px`` in ``rgb``, top to bottom, left to right."""
    models = _get_models()
    dlib = models["dlib"]
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces: list[Face] = []
    for raw in _detect_all(rgb, min_face_px, threshold):
        left, top, right, bottom = (round(v) for v in raw[:4])
        rect = dlib.rectangle(left, top, right, bottom)
        shape = models["predictor"](rgb, rect)
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        embedding = np.array(models["encoder"].compute_face_descriptor(rgb, shape, num_jitters), dtype=np.float64)
        # Boxes are clipped to the picture: callers draw and normalise them; "inside" keeps the cut fraction.
        cl, ct = max(0, left), max(0, top)
        box = (cl, ct, max(1, min(width, right) - cl), max(1, min(height, bottom) - ct))
        quality = _quality(landmarks, box, raw, grey)
        usable = (
            quality["size"] >= USABLE_MIN_SIZE_PX
            and quality["frontalness"] >= USABLE_MIN_FRONTALNESS
            and quality["sharpness"] >= USABLE_MIN_SHARPNESS
            and quality["inside"] >= 0.9
        )
        faces.append(Face(box=box, landmarks=landmarks, embedding=embedding, quality=quality, usable=usable))
    faces.sort(key=lambda face: (face.box[1], face.box[0]))
    return faces


def can_host(quality: Mapping[str, float]) -> bool:
    """Return whether a crowd face (by its quality signals) is big, frontal and whole enough to host a friend."""
    return (
        float(quality.get("size", 0.0)) >= HOST_MIN_SIZE_PX
        and float(quality.get("frontalness", 0.0)) >= USABLE_MIN_FRONTALNESS
        and float(quality.get("inside", 0.0)) >= HOST_MIN_INSIDE
    )


def preference(quality: Mapping[str, float], usable: bool) -> tuple[bool, float, float]:
    """Return how good a picture of a face is, for choosing the best one: usable first, then score, then size."""
    return (bool(usable), float(quality.get("score", 0.0)), float(quality.get("size", 0.0)))
