"""Session-wide face data for the pipeline tests: every shared photo is detected once per run."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from swaps.pipeline import batch, faces, images


@dataclass
class IdentityData:
    paths: list[str]
    labels: list[str]
    faces: list[list[faces.Face]]


@pytest.fixture(scope="session")
def identity_data(data_dir: Path) -> IdentityData:
    """Return the faces of all 61 identity photos with their people, detected once on both cores."""
    with open(data_dir / "identities" / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = [str(data_dir / row["path"]) for row in rows]
    return IdentityData(paths=paths, labels=[row["identity"] for row in rows], faces=batch.detect_files(paths))


@pytest.fixture(scope="session")
def person_embeddings(identity_data: IdentityData) -> dict[str, np.ndarray]:
    """Return each person's usable-face embeddings, keyed by name."""
    people: dict[str, list[np.ndarray]] = {}
    for label, found in zip(identity_data.labels, identity_data.faces, strict=True):
        people.setdefault(label, []).extend(face.embedding for face in found if face.usable)
    return {name: np.array(vectors) for name, vectors in people.items()}


@pytest.fixture(scope="session")
def crowd_faces(data_dir: Path) -> dict[str, tuple[np.ndarray, list[faces.Face]]]:
    """Return each crowd photo's pixels and faces down to host size (as the app detects crowds), detected once."""
    names = ["stadium.jpg", "couple.jpg", "selfie-many-people.jpg", "group-cc0.jpg"]
    result = {}
    for name in names:
        rgb = images.load_image(data_dir / "crowds" / name)
        result[name] = (rgb, faces.detect_faces(rgb, min_face_px=faces.HOST_MIN_SIZE_PX))
    return result


@pytest.fixture(scope="session")
def friend_faces(identity_data: IdentityData) -> dict[str, list[tuple[str, faces.Face]]]:
    """Return each person's (photo, face) pairs with their look and expression traits, computed once."""
    from swaps.pipeline import traits

    people: dict[str, list[tuple[str, faces.Face]]] = {}
    for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True):
        traits.annotate(images.load_image(path), found)
        people.setdefault(label, []).extend((path, face) for face in found)
    return people


@pytest.fixture(scope="session")
def voc_faces(data_dir: Path) -> dict[str, tuple[np.ndarray, list[faces.Face]]]:
    """Return each everyday group photo of crowds/voc with its faces down to host size and their traits."""
    from swaps.pipeline import traits

    result = {}
    for path in sorted((data_dir / "crowds" / "voc").glob("*.jpg")):
        rgb = images.load_image(path)
        found = faces.detect_faces(rgb, min_face_px=faces.HOST_MIN_SIZE_PX)
        traits.annotate(rgb, found)
        result[path.name] = (rgb, found)
    return result
