"""Find the glasses a face wears and their frames: a swap keeps them in front of the friend's face.

Small faces' glasses are also read by a shipped logistic regression (``glasses.json``), rebuilt with
``python -m swaps.pipeline.glasses train ROOT`` from the portraits listed in ``glasses-labels.csv`` (paths under ROOT,
labelled by eye; see the README).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from . import masks, training

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
SMALL_FACE_PX = 20.0  # a host face's box is 24 px or more; its landmarks may span a little less
WORK_FACE_PX = 120.0
SMALL_BRIDGE_MIN_RESPONSE = 17.0
# So a small face also counts as wearing glasses when a logistic regression says so: its inputs are line responses
# around the enlarged eyes (bridge, lower rims, outer rims, temple arms), the eyes' darkness against the cheeks
# (sunglasses), the face size and the 128-D embedding (which carries glasses as it carries gender). Trained on 829
# portraits (90 with glasses or sunglasses, labelled by eye) each shrunk to 24, 28, 32 and 40 px faces and saved as
# JPEG, as a crowd photo is. Cross-validated by photo, with the bridge rule: 24 px 71% of glasses found (the rule
# alone 28%), 28 px 83% (43%), 32 px 86% (61%), 40 px 89% (77%), at 6-9% false alarms (0.3-6%). A false alarm
# only leaves a face without a friend; a miss left rims half painted out, caught in the blind test.
MODEL = Path(__file__).with_name("glasses.json")
LABELS = Path(__file__).with_name("glasses-labels.csv")
MODEL_MIN_PROBABILITY = 0.6
TRAIN_FACE_SIZES = (24, 28, 32, 40)
TRAIN_LONG_SIDE = 800
TRAIN_MIN_FACE_PX = 80
TRAIN_JPEG_QUALITY = 80
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


def wears_glasses(rgb: np.ndarray, landmarks: np.ndarray, embedding: np.ndarray | None = None) -> bool:
    """Return whether the face at ``landmarks`` wears glasses: a line crosses its nose bridge between the eyes.

    A small face with its ``embedding`` also counts when the shipped model finds glasses (MODEL_MIN_PROBABILITY).
    """
    face_size = _face_size(landmarks)
    if face_size >= MIN_FACE_PX:
        return _bridge_response(rgb, landmarks) >= BRIDGE_MIN_RESPONSE
    if face_size < SMALL_FACE_PX:
        return False
    enlarged, local = _enlarged(rgb, landmarks)
    if enlarged.size == 0:
        return False
    bridge = _bridge_response(enlarged, local)
    if bridge >= SMALL_BRIDGE_MIN_RESPONSE:
        return True
    if embedding is None or np.asarray(embedding).size != 128:
        return False  # a face kept as a box only: nothing for the model to read
    features = small_face_features(enlarged, local, bridge)
    return _probability(features, face_size, embedding) >= MODEL_MIN_PROBABILITY


def _strip_peak(response: np.ndarray, box: Sequence[float], axis: int) -> float:
    """Return the strongest row (axis 1) or column (axis 0) median of ``response`` inside ``box`` (x0, x1, y0, y1)."""
    height, width = response.shape
    x0, x1 = max(0, int(box[0])), min(width, int(box[1]))
    y0, y1 = max(0, int(box[2])), min(height, int(box[3]))
    if x1 - x0 < 1 or y1 - y0 < 1:
        return 0.0
    return float(np.median(response[y0:y1, x0:x1], axis=axis).max())


def small_face_features(enlarged: np.ndarray, local: np.ndarray, bridge: float | None = None) -> list[float]:
    """Return the model's picture inputs for an enlarged small face (``_enlarged``): where frames would draw lines.

    The bridge; below each eye (lower rims); beside each eye's outer corner (the rims' sides); from there to the face's
    edge (temple arms); and the eyes' lightness over the cheeks' (dark lenses). ``bridge`` is the bridge's response
    when the caller has read it already.
    """
    size = _face_size(local)
    grey = cv2.cvtColor(np.ascontiguousarray(enlarged), cv2.COLOR_RGB2GRAY)
    response = _line_response(grey, max(3, int(size * LINE_WIDTH_FRACTION) | 1))
    lightness = grey.astype(np.float32)
    lows, sides, temples, eyes, cheeks = [], [], [], [], []
    for eye, outer, inner, edge, out in ((slice(36, 42), 36, 39, 0, -1.0), (slice(42, 48), 45, 42, 16, 1.0)):
        points = local[eye]
        top, bottom, middle = float(points[:, 1].min()), float(points[:, 1].max()), float(points[:, 1].mean())
        left, right = sorted((float(local[outer, 0]), float(local[inner, 0])))
        lows.append(_strip_peak(response, (left, right, bottom + 0.04 * size, bottom + 0.2 * size), 1))
        near, far = float(local[outer, 0]) + out * 0.02 * size, float(local[outer, 0]) + out * 0.14 * size
        sides.append(
            _strip_peak(response, (min(near, far), max(near, far), middle - 0.1 * size, middle + 0.1 * size), 0)
        )
        start, stop = float(local[outer, 0]) + out * 0.06 * size, float(local[edge, 0])
        temples.append(
            _strip_peak(response, (min(start, stop), max(start, stop), middle - 0.08 * size, middle + 0.06 * size), 1)
        )
        x0, x1 = int(max(0, left)), int(right)
        eye_patch = lightness[max(0, int(top - 2)) : int(bottom + 2), x0:x1]
        cheek_patch = lightness[max(0, int(bottom + 0.1 * size)) : int(bottom + 0.22 * size), x0:x1]
        eyes.append(float(eye_patch.mean()) if eye_patch.size else 0.0)
        cheeks.append(float(cheek_patch.mean()) if cheek_patch.size else 0.0)
    return [
        _bridge_response(enlarged, local) if bridge is None else bridge,
        float(np.mean(lows)),
        float(np.min(lows)),
        float(np.mean(sides)),
        float(np.mean(temples)),
        float(np.mean(eyes)) / max(float(np.mean(cheeks)), 1.0),
    ]


@lru_cache(maxsize=1)
def _model() -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Return the shipped model: input means and scales, weights and intercept (read once per process)."""
    data = json.loads(MODEL.read_text())
    return (
        np.asarray(data["mean"], dtype=np.float64),
        np.asarray(data["scale"], dtype=np.float64),
        np.asarray(data["weights"], dtype=np.float64),
        float(data["intercept"]),
    )


def _inputs(features: Sequence[float], face_size: float, embedding: np.ndarray) -> np.ndarray:
    """Return the model's inputs: the picture features, the face size, the 128-D embedding."""
    return np.concatenate([features, [face_size], np.asarray(embedding).reshape(-1)])


def _probability(features: Sequence[float], face_size: float, embedding: np.ndarray) -> float:
    """Return the model's probability that the small face with these picture ``features`` wears glasses."""
    mean, scale, weights, intercept = _model()
    score = float(((_inputs(features, face_size, embedding) - mean) / scale) @ weights + intercept)
    return float(1.0 / (1.0 + np.exp(-score)))


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
    return cv2.dilate(mask, masks.disc(face_size * 0.01))


def _training_rows(path: str) -> list[tuple[int, list[float]]]:
    """Return (size, model inputs) of the largest frontal face in the photo at ``path`` shrunk to each training size."""
    from . import faces

    portrait = faces.portrait_face(path, TRAIN_LONG_SIDE, TRAIN_MIN_FACE_PX, embed=False)
    if portrait is None:
        return []
    rgb, largest = portrait
    centre = np.array(largest.center)
    rows = []
    for size in TRAIN_FACE_SIZES:
        shrink = size / _face_size(largest.landmarks[:68])
        small = cv2.resize(rgb, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA)
        # A crowd face comes out of a JPEG: its blocks are part of what the model must see past.
        _, encoded = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, TRAIN_JPEG_QUALITY])
        decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
        if decoded is None:
            continue
        small = np.ascontiguousarray(decoded[..., ::-1])
        again = [face for face in faces.detect_faces(small, min_face_px=18) if face.embedded]
        if not again:
            continue
        face = min(again, key=lambda face: float(np.linalg.norm(np.array(face.center) - centre * shrink)))
        if float(np.linalg.norm(np.array(face.center) - centre * shrink)) > size * 0.5:
            continue
        landmarks = face.landmarks[:68]
        enlarged, local = _enlarged(small, landmarks)
        inputs = _inputs(small_face_features(enlarged, local), _face_size(landmarks), face.embedding)
        rows.append((size, [float(v) for v in inputs]))
    return rows


def train(root: Path, labels: Path = LABELS, out: Path = MODEL, workers: int = 2) -> dict[str, object]:
    """Fit the small-face model on the labelled portraits under ``root``, write ``out``; return the figures."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from . import faces

    with open(labels, newline="") as handle:
        listed = [(str(root / row["path"]), row["glasses"] == "1") for row in csv.DictReader(handle)]
    with ProcessPoolExecutor(max_workers=workers, initializer=faces.load_models) as pool:
        per_photo = list(pool.map(_training_rows, [path for path, _ in listed], chunksize=4))
    x = np.array([row for rows in per_photo for _, row in rows])
    sizes = np.array([size for rows in per_photo for size, _ in rows])
    y = np.array([wears for (_, wears), rows in zip(listed, per_photo, strict=True) for _ in rows])
    # All sizes of one photo stay in one fold, so the figures are those of faces never seen.
    groups = np.array([index for index, rows in enumerate(per_photo) for _ in rows])
    # A strong penalty: 135 inputs and about 330 faces with glasses; balanced, so glasses are not drowned.
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=3000, class_weight="balanced"))
    found = cross_val_predict(model, x, y, cv=GroupKFold(n_splits=5), groups=groups, method="predict_proba")[:, 1]
    with_rule = (found >= MODEL_MIN_PROBABILITY) | (x[:, 0] >= SMALL_BRIDGE_MIN_RESPONSE)
    figures: dict[str, object] = {"photos": len(listed), "faces": len(x), "with_glasses": int(y.sum())}
    for size in TRAIN_FACE_SIZES:
        at = sizes == size
        figures[f"{size}px"] = {
            "found": round(float(with_rule[at & y].mean()), 3),
            "false_alarms": round(float(with_rule[at & ~y].mean()), 3),
            "rule_alone_found": round(float((x[at & y, 0] >= SMALL_BRIDGE_MIN_RESPONSE).mean()), 3),
            "rule_alone_false_alarms": round(float((x[at & ~y, 0] >= SMALL_BRIDGE_MIN_RESPONSE).mean()), 3),
        }
    model.fit(x, y)
    scaler, regression = model.named_steps["standardscaler"], model.named_steps["logisticregression"]
    training.write_model(
        out,
        {
            "source": f"{labels.name}: portraits labelled by eye, shrunk to {list(TRAIN_FACE_SIZES)} px; README",
            **figures,
            "mean": [round(float(v), 6) for v in scaler.mean_],
            "scale": [round(float(v), 6) for v in scaler.scale_],
            "weights": [round(float(v), 6) for v in regression.coef_[0]],
            "intercept": round(float(regression.intercept_[0]), 6),
        },
    )
    _model.cache_clear()
    return figures


# Train the shipped model from the labelled portraits.
main = training.labelled_portraits_command(
    "swaps.pipeline.glasses", __doc__, "the small-face model", LABELS, MODEL, train
)


if __name__ == "__main__":
    raise SystemExit(main(None))
