"""Face detection, landmarks, embeddings and quality on real photos."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image

from swaps.pipeline import detection, encoder, faces, images, landmarks
from swaps.pipeline.faces import box_iou as iou


def test_voc_recall_at_least_95_percent(data_dir: Path) -> None:
    voc = data_dir / "crowds" / "voc"
    with open(voc / "boxes.csv", newline="") as handle:
        truth = [
            (row["file"], tuple(int(row[k]) for k in ("left", "top", "width", "height")))
            for row in csv.DictReader(handle)
        ]
    found = {name: faces.detect_faces(images.load_image(voc / name)) for name in {name for name, _ in truth}}
    hits = sum(any(iou(box, face.box) >= 0.4 for face in found[name]) for name, box in truth)
    assert hits / len(truth) >= 0.95, f"recall {hits}/{len(truth)}"


def test_face_fields(crowd_faces: dict) -> None:
    rgb, found = crowd_faces["couple.jpg"]
    assert len(found) == 2
    for face in found:
        assert face.landmarks.shape == (68, 2)
        assert face.mesh is not None and face.mesh.shape == (468, 3)
        assert face.embedded and face.embedding.shape == (128,) and face.embedding.dtype == np.float64
        assert {"size", "frontalness", "sharpness", "score"} <= set(face.quality)
        assert 0 <= face.quality["frontalness"] <= 1 and 0 <= face.quality["score"] <= 1
        left, top, width, height = face.box
        assert 0 <= left and 0 <= top and left + width <= rgb.shape[1] and top + height <= rgb.shape[0]
        assert face.usable


def test_photo_without_faces_gives_empty_list(data_dir: Path) -> None:
    rgb = images.load_image(data_dir / "crowds" / "stadium.jpg")[560:644, 0:300]  # floor and shoes
    assert faces.detect_faces(rgb) == []


def test_boxes_are_in_exif_oriented_pixels(data_dir: Path) -> None:
    path = data_dir / "crowds" / "voc" / "2008_001322.jpg"
    upright = faces.detect_faces(images.load_image(path))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    Image.open(path).rotate(90, expand=True).save(buffer, format="JPEG", exif=exif.tobytes(), quality=95)
    rotated = faces.detect_faces(images.load_image(buffer.getvalue()))
    assert len(rotated) == len(upright) >= 3
    for face in upright:
        assert max(iou(face.box, other.box) for other in rotated) > 0.6


def test_large_photo_is_tiled_and_keeps_faces(data_dir: Path) -> None:
    rgb = images.load_image(data_dir / "crowds" / "group-cc0.jpg")
    big = np.tile(rgb, (2, 2, 1))  # 2560x1706 at its own size (20 px faces asked for): RetinaFace runs in tiles
    assert big.shape[0] * big.shape[1] > detection.SINGLE_PASS_MAX_PIXELS
    single = faces.detect_faces(rgb, min_face_px=detection.RETINA_NATIVE_MIN_PX)
    tiled = faces.detect_faces(big, min_face_px=detection.RETINA_NATIVE_MIN_PX)
    height, width = rgb.shape[:2]
    # The face cut by the top edge is not cut in the lower copies (it continues the picture above): leave it out.
    whole = [face for face in single if face.quality["inside"] >= 0.99]
    assert len(whole) >= 4
    for dx, dy in ((0, 0), (width, 0), (0, height), (width, height)):
        for face in whole:
            shifted = (face.box[0] + dx, face.box[1] + dy, face.box[2], face.box[3])
            assert max(iou(shifted, other.box) for other in tiled) > 0.5


def test_load_models_is_idempotent() -> None:
    faces.load_models()
    first = (encoder.load(), detection.load("retinaface"), landmarks._get("mesh"))
    faces.load_models()
    assert (encoder.load(), detection.load("retinaface"), landmarks._get("mesh")) == first
