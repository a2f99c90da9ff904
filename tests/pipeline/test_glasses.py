"""Glasses on crowd-size faces: the shipped small-face model finds what the bridge alone misses, and it can be rebuilt."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from swaps.pipeline import faces, glasses


def _as_crowd_face(rgb: np.ndarray, face: faces.Face, size: float) -> np.ndarray:
    """Return ``rgb`` shrunk so ``face`` is ``size`` px across, saved and read back as a JPEG (as crowds come)."""
    scale = size / glasses._face_size(face.landmarks[:68])
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    _, encoded = cv2.imencode(".jpg", small[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])
    return np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])


@pytest.mark.parametrize("size", [22, 26, 30, 36])
def test_small_faces_wearing_glasses_are_found(crowd_faces, size) -> None:
    """group-cc0.jpg (not among the training photos) shrunk to a crowd: only the man with glasses reads as wearing
    them. The nose bridge alone, read enlarged, finds him at none of these sizes. At 22 px his landmarks span less than
    the 24 px box that lets a face host a friend: such faces are read too."""
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    wearer = crowd[-1]  # top to bottom: the man with glasses is the lowest face
    assert glasses.wears_glasses(rgb, wearer.landmarks)
    small = _as_crowd_face(rgb, wearer, size)
    found = [face for face in faces.detect_faces(small, min_face_px=18) if face.embedded]
    wearing = [glasses.wears_glasses(small, face.landmarks, face.embedding) for face in found]
    by_bridge = [glasses.wears_glasses(small, face.landmarks) for face in found]
    lowest = max(range(len(found)), key=lambda i: found[i].box[1])
    assert len(found) >= 3
    assert wearing[lowest] and sum(wearing) == 1
    assert not any(by_bridge)


def test_a_face_without_an_embedding_is_read_by_its_bridge_alone(crowd_faces) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    small = _as_crowd_face(rgb, crowd[-1], 30)
    face = max((f for f in faces.detect_faces(small, min_face_px=18) if f.embedded), key=lambda f: f.box[1])
    assert glasses.wears_glasses(small, face.landmarks, face.embedding)
    assert not glasses.wears_glasses(small, face.landmarks, np.zeros(0))


def test_the_model_is_rebuilt_from_labelled_portraits(tmp_path: Path, data_dir: Path) -> None:
    """`python -m swaps.pipeline.glasses train ROOT` on a few shared portraits (sundar_pichai wears glasses)."""
    with open(data_dir / "identities" / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    chosen = [r for r in rows if r["identity"] == "sundar_pichai"] + [
        r for r in rows if r["identity"] != "sundar_pichai"
    ][::6]
    labels = tmp_path / "labels.csv"
    with open(labels, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "glasses"])
        for row in chosen:
            writer.writerow([row["path"], int(row["identity"] == "sundar_pichai")])
    out = tmp_path / "glasses.json"
    assert glasses.main(["train", str(data_dir), "--labels", str(labels), "--out", str(out)]) == 0
    model = json.loads(out.read_text())
    # sundar_pichai's two photos give a face at most training sizes.
    assert model["photos"] == len(chosen) and model["with_glasses"] >= 6
    assert len(model["weights"]) == len(model["mean"]) == len(model["scale"]) == 6 + 1 + 128
    assert glasses.main(["train", str(tmp_path / "missing")]) == 2
