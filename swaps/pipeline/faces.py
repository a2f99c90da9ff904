"""Find faces: detect, place landmarks, judge quality, drop non-faces and embed (128-D) the faces that are used."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from . import detection, encoder
from . import landmarks as marks

# A face must reach these to seed a cluster or be a swap source (measured on shared/data/identities).
USABLE_MIN_SIZE_PX = 60.0
USABLE_MIN_FRONTALNESS = 0.3
USABLE_MIN_SHARPNESS = 0.25
# A crowd face can take a friend's face with less: a target only needs landmarks good enough to
# warp onto (the friend brings the detail). Stadium front rows are 25-40 px faces; the whole
# outline must be inside the picture to blend into.
HOST_MIN_SIZE_PX = 24
HOST_MIN_INSIDE = 0.9
# A head bowed (or raised) this far shows its forehead more than its face: every swap onto the man looking down at
# the table in group-cc0.jpg (pitch 44) came out blotched, with the mesh's points and with dlib's. The other 90
# faces that can host in shared/data are within 23 degrees.
HOST_MAX_PITCH_DEG = 35.0
# Smallest faces worth keeping as boxes (the picture, decoys, counts): the stadium's background rows.
BOX_MIN_SIZE_PX = 8
# Below this a face gets an average face's landmarks placed by its eyes instead of the mesh: it can neither host
# nor seed, and the mesh would cost ~2 ms for each of the stadium's 200 background faces.
MESH_MIN_SIZE_PX = 20.0
# The default floor of detect_faces. HOG ran with a 40 px window, which returns a 40 px box for faces of about
# 30-40 px (crowds/voc: hand-drawn boxes of 37 px); RetinaFace's calibrated boxes are the face's own size, 30-33 px
# for those faces (voc recall 9/18 with a 40 px floor, 13/18 with 32, 18/18 with 30): 28 keeps a margin.
DEFAULT_MIN_FACE_PX = 28.0
# Not a face: RetinaFace took three shirts in the 61 portraits for faces (scores 0.58-0.88). A detection is kept
# when the mesh confirms it (the model's face presence >= 0.5 and the detector's eyes, nose and mouth corners
# within 0.45 eye distances of the mesh's), or when the detector is sure (>= 0.95) and the mesh's features land
# roughly where the detector's do (within 1.5: turned profiles disagree more). Measured on every face of 20 px
# and more in shared/data: the shirts disagree by 0.17-2.2 with presence <= 0.76 (the one at 0.76 disagrees by
# 0.65); real faces that the mesh doubts (laughing, half hidden behind a shoulder) all score >= 0.95.
MIN_PRESENCE = 0.5
MAX_POINT_DISAGREEMENT = 0.45
SURE_DETECTOR_SCORE = 0.95
SURE_MAX_POINT_DISAGREEMENT = 1.5


@dataclass
class Face:
    """One face: where it is, its 68 landmarks (dlib's order), its 128-D embedding and how good a picture it is.

    ``embedding`` is empty (shape (0,)) when the face was kept only as a box (``embedded`` is False): too small
    or too turned to host a friend or seed a person. ``mesh`` is MediaPipe's 468 points (x, y, z in pixels) or
    None (dlib68 fallback, or a face too small for the mesh).
    """

    box: tuple[int, int, int, int]
    landmarks: np.ndarray
    embedding: np.ndarray
    quality: dict[str, float] = field(default_factory=dict)
    usable: bool = False
    mesh: np.ndarray | None = None

    @property
    def center(self) -> tuple[float, float]:
        """Return the centre of the box in pixels."""
        left, top, width, height = self.box
        return left + width / 2.0, top + height / 2.0

    @property
    def embedded(self) -> bool:
        """Return whether this face carries a 128-D embedding."""
        return self.embedding.shape == (128,)


def load_models(*, detector: str = detection.DEFAULT_DETECTOR, landmarks: str = marks.DEFAULT_METHOD) -> None:
    """Load the detector, the landmark models and the encoder now, once per process."""
    detection.load(detector)
    marks.load(landmarks)
    encoder.load()


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Return the intersection over union of two (left, top, width, height) boxes."""
    inter_w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    inter_h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


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


def _pose(landmarks: np.ndarray, mesh: np.ndarray | None) -> tuple[float, float]:
    """Return (pitch, roll) in degrees: roll from the eye line, pitch (head bowed > 0) from the mesh's depth."""
    eyes = landmarks[42:48].mean(axis=0) - landmarks[36:42].mean(axis=0)
    roll = float(np.degrees(np.arctan2(eyes[1], eyes[0])))
    if mesh is None:
        return 0.0, roll
    # Forehead (vertex 10) to chin (152): a bowed head brings the forehead nearer the camera (smaller z).
    down = mesh[152] - mesh[10]
    pitch = float(np.degrees(np.arctan2(down[2], float(np.hypot(down[0], down[1])))))
    return pitch, roll


def _five_point_yaw(points: np.ndarray) -> tuple[float, float]:
    """Return (frontalness, yaw) of a face too small for landmarks, from the nose between the detector's eyes."""
    axis = points[1] - points[0]
    axis = axis / (float(np.linalg.norm(axis)) or 1.0)
    left = max(float(np.dot(points[2] - points[0], axis)), 1e-3)
    right = max(float(np.dot(points[1] - points[2], axis)), 1e-3)
    return min(left, right) / max(left, right), (left - right) / (left + right)


def _quality(
    landmarks: np.ndarray,
    box: tuple[int, int, int, int],
    found: detection.Detection,
    grey: np.ndarray,
    mesh: np.ndarray | None,
    presence: float,
    from_landmarks: bool,
) -> dict[str, float]:
    """Return the quality signals of one face and an overall score."""
    height_img, width_img = grey.shape[:2]
    left, top, right, bottom = found.box
    size = float(np.sqrt(max(1.0, (right - left) * (bottom - top))))
    inside_w = max(0.0, min(right, width_img) - max(left, 0.0))
    inside_h = max(0.0, min(bottom, height_img) - max(top, 0.0))
    inside = inside_w * inside_h / max(1.0, (right - left) * (bottom - top))
    # The box stops at the brows: a face cut above the eyes (group-cc0.jpg) still has 90% of its box inside, but
    # a quarter of its landmarks (brows, eyes) outside.
    in_picture = (
        (landmarks[:, 0] >= 0) & (landmarks[:, 0] < width_img) & (landmarks[:, 1] >= 0) & (landmarks[:, 1] < height_img)
    )
    inside = min(inside, float(in_picture.mean()))
    if from_landmarks or found.points is None:
        frontalness, yaw = _frontal_yaw(landmarks)
    else:
        frontalness, yaw = _five_point_yaw(found.points)
    pitch, roll = _pose(landmarks, mesh)
    sharpness = _sharpness(grey, box)
    size_term = float(np.clip((size - 30.0) / 120.0, 0.0, 1.0))
    score = (0.4 * size_term + 0.35 * frontalness + 0.25 * sharpness) * inside
    return {
        "size": round(size, 2),
        "frontalness": round(frontalness, 4),
        "yaw": round(yaw, 4),
        "pitch": round(pitch, 2),
        "roll": round(roll, 2),
        "sharpness": round(sharpness, 4),
        "inside": round(float(inside), 4),
        "detector": round(float(found.score), 4),
        "presence": round(float(presence), 4),
        "score": round(float(score), 4),
    }


def point_disagreement(points: np.ndarray, mesh: np.ndarray) -> float:
    """Return how far the detector's eyes, nose and mouth corners lie from the mesh's, in eye distances."""
    ours = np.array(
        [
            (mesh[33, :2] + mesh[133, :2]) / 2.0,
            (mesh[362, :2] + mesh[263, :2]) / 2.0,
            mesh[4, :2],
            mesh[61, :2],
            mesh[291, :2],
        ]
    )
    eye_distance = float(np.linalg.norm(points[1] - points[0])) or 1.0
    return float(np.linalg.norm(ours - points, axis=1).mean() / eye_distance)


def is_face(found: detection.Detection, located: marks.Points) -> bool:
    """Return whether a detection is a face: the mesh confirms it, or the detector is sure and the mesh agrees."""
    if located.mesh is None or found.points is None:
        return True  # HOG or the dlib68 fallback: the detector's word only, as before the mesh
    disagreement = point_disagreement(found.points, located.mesh)
    if located.presence >= MIN_PRESENCE and disagreement <= MAX_POINT_DISAGREEMENT:
        return True
    return found.score >= SURE_DETECTOR_SCORE and disagreement <= SURE_MAX_POINT_DISAGREEMENT


def worth_embedding(face: Face) -> bool:
    """Return whether a face may be used: it can seed a person or host a friend."""
    return face.usable or can_host(face.quality)


def detect_faces(
    rgb: np.ndarray,
    *,
    min_face_px: float = DEFAULT_MIN_FACE_PX,
    num_jitters: int = 1,
    detector: str = detection.DEFAULT_DETECTOR,
    landmarks: str = marks.DEFAULT_METHOD,
    embed: bool | Callable[[Face], bool] = True,
    encode_processes: int = 1,
) -> list[Face]:
    """Return every face of at least ``min_face_px`` in ``rgb``, top to bottom, left to right.

    ``embed`` says which faces get an embedding: all (True), none (False) or those a predicate accepts (e.g.
    ``worth_embedding``); faces below MESH_MIN_SIZE_PX are boxes only and never embedded. ``encode_processes`` > 1
    lets helper processes encode a share of a photo's many faces (see ``encoder``).
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width = rgb.shape[:2]
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces: list[Face] = []
    fives: list[Any] = []
    for found in detection.detect(rgb, detector=detector, min_face_px=min_face_px):
        left, top, right, bottom = (round(v) for v in found.box)
        # Boxes are clipped to the picture: callers draw and normalise them; "inside" keeps the cut fraction.
        cl, ct = max(0, left), max(0, top)
        box = (cl, ct, max(1, min(width, right) - cl), max(1, min(height, bottom) - ct))
        if found.points is not None and right - left < MESH_MIN_SIZE_PX:
            points, mesh, presence, five = marks.from_eyes(found.points), None, 1.0, None
        else:
            located = marks.locate(rgb, found.box, eye_points=found.points, method=landmarks)
            if not is_face(found, located):
                continue
            points, mesh, presence, five = located.landmarks, located.mesh, located.presence, located.five
        quality = _quality(points, box, found, grey, mesh, presence, from_landmarks=five is not None)
        usable = five is not None and (
            quality["size"] >= USABLE_MIN_SIZE_PX
            and quality["frontalness"] >= USABLE_MIN_FRONTALNESS
            and quality["sharpness"] >= USABLE_MIN_SHARPNESS
            and quality["inside"] >= 0.9
        )
        face = Face(box=box, landmarks=points, embedding=np.zeros(0), quality=quality, usable=usable, mesh=mesh)
        faces.append(face)
        fives.append(five if five is not None and (embed is True or (callable(embed) and embed(face))) else None)
    chosen = [i for i, five in enumerate(fives) if five is not None]
    vectors = encoder.encode(rgb, [fives[i] for i in chosen], num_jitters, processes=encode_processes)
    for i, vector in zip(chosen, vectors, strict=True):
        faces[i].embedding = vector
    faces.sort(key=lambda face: (face.box[1], face.box[0]))
    return faces


# Quality signals that change sign in a mirror (see mirrored).
MIRRORED_SIGNS = ("yaw", "roll", "expr_yaw", "expr_roll", "gaze")


def mirrored(rgb: np.ndarray, face: Face, *, landmarks: str = marks.DEFAULT_METHOD) -> tuple[np.ndarray, Face]:
    """Return ``rgb`` flipped left to right and ``face`` as it is in the flipped photo.

    Its points are located again on the flipped photo (a mesh's left and right are not a permutation one could
    trust), its head turn and tilt change sign, the rest (embedding, look) is the face's own.
    """
    flipped = np.ascontiguousarray(rgb[:, ::-1])
    width = rgb.shape[1]
    left, top, box_w, box_h = face.box
    mirror_left = width - left - box_w
    points = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    # The image-right eye becomes the image-left one.
    eyes = np.array([points[42:48].mean(axis=0), points[36:42].mean(axis=0)])
    eyes[:, 0] = width - 1 - eyes[:, 0]
    located = marks.locate(
        flipped, (mirror_left, top, mirror_left + box_w, top + box_h), eye_points=eyes, method=landmarks
    )
    quality = dict(face.quality)
    for key in MIRRORED_SIGNS:
        if key in quality:
            quality[key] = -float(quality[key])
    return flipped, Face(
        box=(mirror_left, top, box_w, box_h),
        landmarks=located.landmarks,
        embedding=face.embedding,
        quality=quality,
        usable=face.usable,
        mesh=located.mesh,
    )


def oriented(rgb: np.ndarray, face: Face, flip: bool) -> tuple[np.ndarray, Face]:
    """Return the photo and face as a swap uses them: mirrored when ``flip`` (see mirrored), else as they are."""
    return mirrored(rgb, face) if flip else (rgb, face)


def portrait_face(path: str, long_side: int, min_face_px: float, embed: bool = True) -> tuple[np.ndarray, Face] | None:
    """Return the photo at ``path`` shrunk to at most ``long_side`` px and its largest frontal, whole face (or None).

    For training the shipped models (gender, glasses) on folders of portraits.
    """
    from . import images

    rgb = images.load_image(path)
    scale = long_side / max(rgb.shape[:2])
    if scale < 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    found = [
        face
        for face in detect_faces(rgb, min_face_px=min_face_px, embed=embed)
        if face.quality["frontalness"] >= USABLE_MIN_FRONTALNESS and face.quality["inside"] >= 0.9
    ]
    if not found:
        return None
    return rgb, max(found, key=lambda face: face.quality["size"])


def can_host(quality: Mapping[str, float]) -> bool:
    """Return whether a crowd face (by its quality signals) is big, frontal, whole and upright enough to host a friend."""
    return (
        float(quality.get("size", 0.0)) >= HOST_MIN_SIZE_PX
        and float(quality.get("frontalness", 0.0)) >= USABLE_MIN_FRONTALNESS
        and float(quality.get("inside", 0.0)) >= HOST_MIN_INSIDE
        and abs(float(quality.get("pitch", 0.0))) <= HOST_MAX_PITCH_DEG
    )


def host_refusals(quality: Mapping[str, float]) -> list[str]:
    """Return, in words, why a face with these quality signals cannot host a friend whatever its size (none: it can).

    The same rules as ``can_host`` less the size, which the fit sets per difficulty; a signal absent from ``quality``
    refuses nothing.
    """
    reasons = []
    if float(quality.get("frontalness", 1.0)) < USABLE_MIN_FRONTALNESS:
        reasons.append("face turned too far away")
    if float(quality.get("inside", 1.0)) < HOST_MIN_INSIDE:
        reasons.append("too much of the face is outside the picture")
    if abs(float(quality.get("pitch", 0.0))) > HOST_MAX_PITCH_DEG:
        reasons.append("head bowed or raised too far")
    return reasons


def preference(quality: Mapping[str, float], usable: bool) -> tuple[bool, float, float]:
    """Return how good a picture of a face is, for choosing the best one: usable first, then score, then size."""
    return (bool(usable), float(quality.get("score", 0.0)), float(quality.get("size", 0.0)))
