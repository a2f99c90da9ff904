"""What a blind viewer caught on swapped faces (issue 11's blind test), each checked on the shared photos."""

from __future__ import annotations

import cv2
import numpy as np

from swaps.pipeline import faces, images, quality, swap


def _source(friend_faces, person: str, photo: str) -> tuple[np.ndarray, faces.Face]:
    path, face = next(item for item in friend_faces[person] if item[0].endswith(f"/{photo}"))
    return images.load_image(path), face


def _polygon(shape, points) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask > 0


def _worst_colour_cast(before: np.ndarray, after: np.ndarray, target: faces.Face) -> float:
    """Return the largest smooth a*b* change (8-bit Lab) over the face: a coloured patch, not a pixel's noise."""
    landmarks = np.asarray(target.landmarks, dtype=np.float64)[:68]
    region = quality.face_region(before.shape[:2], landmarks) > 0
    size = float(max(np.ptp(landmarks, axis=0)))
    lab_before = cv2.cvtColor(before, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab_after = cv2.cvtColor(after, cv2.COLOR_RGB2LAB).astype(np.float32)
    change = [cv2.GaussianBlur(lab_after[..., c] - lab_before[..., c], (0, 0), size / 10) for c in (1, 2)]
    return float(np.percentile(np.hypot(*change)[region], 98))


def test_a_coloured_light_on_the_friend_photo_leaves_no_patch(voc_faces, friend_faces) -> None:
    # katy_perry/img27.jpg is lit by a purple stage light on one cheek; on the 31-32 px faces of an everyday photo
    # it stayed as a pink-purple smear (the viewer: "a pink-purple smear on a cheek"): the low-frequency colour
    # shift was capped at 12 a*b* units. Measured: 6.6, 6.0 and 4.5 with the cap, 3.8, 2.3 and 3.9 now.
    rgb, crowd = voc_faces["2007_007763.jpg"]
    targets = [face for face in crowd if faces.can_host(face.quality) and face.quality["size"] < 36]
    assert len(targets) == 3
    source_rgb, source = _source(friend_faces, "katy_perry", "img27.jpg")
    for target in targets:
        result = swap.swap_faces(rgb, [(source_rgb, source, target)])
        assert _worst_colour_cast(rgb, result, target) < 5.0, target.box


def test_a_large_laughing_face_keeps_white_teeth(crowd_faces, friend_faces) -> None:
    # The lips' colour shift (bright lipstick toward bare lips, full strength from 90 px) ran through the teeth
    # between them and turned them teal on large faces (the viewer: "teal/cyan teeth").
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    target = min(crowd, key=lambda face: abs(face.box[0] - 83))  # 130 px, laughing with her teeth showing
    source_rgb, source = _source(friend_faces, "scarlett_johansson", "img50.jpg")  # laughing, red lipstick
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    mouth = _polygon(rgb.shape, target.landmarks[48:60])
    lab = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[mouth].astype(float)
    teeth = lab[lab[:, 0] >= np.percentile(lab[:, 0], 75)]
    # 128 is neutral; measured a* 123 and b* 126 (blue-green) through the lips' shift, 133 and 133 now.
    assert np.median(teeth[:, 1]) >= 127
    assert np.median(teeth[:, 2]) >= 128
