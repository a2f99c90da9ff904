"""The CNN detector on real photos: turned, tilted and cut faces, tiny faces, the box calibration and HOG."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from swaps.pipeline import detection, faces, images
from swaps.pipeline.faces import box_iou as iou


def _ltrb_iou(a, b) -> float:
    return iou((a[0], a[1], a[2] - a[0], a[3] - a[1]), (b[0], b[1], b[2] - b[0], b[3] - b[1]))


def test_group_photo_finds_all_five_visible_faces(crowd_faces) -> None:
    rgb, found = crowd_faces["group-cc0.jpg"]
    assert len(found) == 5
    # The face cut by the top edge (mouth and chin only... and some of the nose) is found but is not whole.
    cut = min(found, key=lambda face: face.box[1])
    assert cut.box[1] == 0 and cut.quality["inside"] < 0.95 and not faces.can_host(cut.quality)
    # The man looking steeply down at the table: his head is bowed far more than anyone else's.
    bowed = max(found, key=lambda face: face.quality["pitch"])
    assert bowed.quality["pitch"] > 30 and all(f.quality["pitch"] < 25 for f in found if f is not bowed)
    # Too bowed to host a friend (swaps onto him blotch), though big, whole and frontal enough otherwise.
    assert not faces.can_host(bowed.quality)
    assert faces.can_host({**bowed.quality, "pitch": 0.0})


def test_hog_stays_selectable_and_misses_the_turned_faces(data_dir: Path) -> None:
    rgb = images.load_image(data_dir / "crowds" / "group-cc0.jpg")
    hog = faces.detect_faces(rgb, detector="hog")
    assert 2 <= len(hog) <= 4  # plain HOG finds the frontal ones only
    assert all(face.quality["detector"] >= 0 and face.landmarks.shape == (68, 2) and face.embedded for face in hog)
    hog68 = faces.detect_faces(rgb, detector="hog", landmarks="dlib68")
    assert [face.box for face in hog68] == [face.box for face in hog]
    assert all(face.mesh is None for face in hog68)


def test_tilted_face_is_found_and_its_landmarks_follow_the_tilt(identity_data) -> None:
    index = next(i for i, path in enumerate(identity_data.paths) if path.endswith("angelina_jolie/img1.jpg"))
    rgb = images.load_image(identity_data.paths[index])
    upright = max(faces.detect_faces(rgb), key=lambda face: face.quality["size"])
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 35, 1.0)  # counter-clockwise on screen
    tilted_rgb = cv2.warpAffine(rgb, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)
    tilted = max(faces.detect_faces(tilted_rgb), key=lambda face: face.quality["size"])
    assert abs((tilted.quality["roll"] - upright.quality["roll"]) - (-35)) < 8
    # The landmarks rotate with the face: each lands within 8% of the face size of where it went.
    expected = upright.landmarks @ matrix[:, :2].T + matrix[:, 2]
    error = np.linalg.norm(tilted.landmarks - expected, axis=1).mean() / upright.quality["size"]
    assert error < 0.08
    assert tilted.embedded and np.linalg.norm(tilted.embedding - upright.embedding) < 0.4


def test_stadium_background_faces_are_boxes_only(crowd_faces, data_dir: Path) -> None:
    rgb = crowd_faces["stadium.jpg"][0]
    found = faces.detect_faces(rgb, min_face_px=faces.BOX_MIN_SIZE_PX, embed=faces.worth_embedding)
    hosts = [face for face in found if faces.can_host(face.quality)]
    assert len(found) >= 150  # the crowd behind the team: 200+ faces of 8-20 px
    assert 20 <= len(hosts) <= 40  # the team in front
    for face in found:
        assert face.embedded == faces.worth_embedding(face)
        assert face.embedding.shape == ((128,) if face.embedded else (0,))
        assert face.landmarks.shape == (68, 2)
        if face.quality["size"] < faces.MESH_MIN_SIZE_PX:
            assert face.mesh is None and not face.embedded
    assert all(face.embedded for face in hosts)


def test_calibrated_boxes_match_dlibs_own_boxes(identity_data) -> None:
    """The encoder's 5-point model was trained on dlib-detector boxes: RetinaFace boxes are turned into those."""
    hog = detection.load("hog")
    calibrated, raw = [], []
    for path in identity_data.paths[::3]:
        rgb = images.load_image(path)
        for found in detection.detect(rgb, min_face_px=60):
            hog_boxes = [(r.left(), r.top(), r.right(), r.bottom()) for r in hog.run(rgb, 1, 0.0)[0]]
            if not hog_boxes:
                continue
            best = max(hog_boxes, key=lambda box: _ltrb_iou(box, found.box))
            if _ltrb_iou(best, found.box) < 0.3:
                continue
            # Undo the calibration to get RetinaFace's own box back.
            side = (found.box[2] - found.box[0]) / detection.CALIBRATION_SCALE
            cx = (found.box[0] + found.box[2]) / 2
            cy = (found.box[1] + found.box[3]) / 2 - detection.CALIBRATION_SHIFT * side
            uncalibrated = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
            assert np.allclose(detection.calibrate(uncalibrated), found.box)
            calibrated.append(_ltrb_iou(best, found.box))
            raw.append(_ltrb_iou(best, uncalibrated))
    assert len(calibrated) >= 12
    # Measured on all 61 portraits: median IoU 0.83 calibrated, 0.72 raw.
    assert np.median(calibrated) > 0.78 and np.median(calibrated) > np.median(raw) + 0.07


def test_big_canvas_detects_in_tiles_with_the_same_faces(crowd_faces) -> None:
    rgb, found = crowd_faces["stadium.jpg"]
    big = cv2.resize(rgb, (rgb.shape[1] * 3, rgb.shape[0] * 3), interpolation=cv2.INTER_CUBIC)
    assert big.shape[0] * big.shape[1] > detection.SINGLE_PASS_MAX_PIXELS  # at its own size: in tiles
    tiled = detection.detect(big, min_face_px=detection.RETINA_NATIVE_MIN_PX)
    hosts = [face for face in found if face.quality["size"] >= 30]
    for face in hosts:
        scaled = tuple(v * 3 for v in face.box)
        boxes = [(d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]) for d in tiled]
        assert max(iou(scaled, box) for box in boxes) > 0.5
