"""Swapping friends into crowds: the friend is recognisable and still a face; borders are safe."""

from __future__ import annotations

import numpy as np
import pytest

from swaps.pipeline import faces, images, matching, swap

from .conftest import iou


def _sources(identity_data) -> dict[str, tuple[str, faces.Face]]:
    """Return each person's best source photo and face, whatever the target."""
    candidates: dict[str, list[tuple[str, faces.Face]]] = {}
    for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True):
        candidates.setdefault(label, []).extend((path, face) for face in found)
    result = {}
    for label, items in candidates.items():
        result[label] = items[swap.best_source([face for _, face in items])]
    return result


@pytest.mark.parametrize("crowd_name", ["stadium.jpg", "group-cc0.jpg"])
def test_swapped_faces_look_like_the_friend_and_stay_faces(
    crowd_name, crowd_faces, identity_data, person_embeddings
) -> None:
    rgb, crowd = crowd_faces[crowd_name]
    height, width = rgb.shape[:2]
    sources = _sources(identity_data)
    matches = matching.assign(person_embeddings, crowd, image_size=(width, height))
    assert len(matches) >= 3
    pairs = []
    for m in matches:
        path, source = sources[m.identity]
        pairs.append((images.load_image(path), source, crowd[m.target]))
    seen: list[float] = []
    result = swap.swap_faces(rgb, pairs, progress=lambda fraction, _message: seen.append(fraction))
    assert result.shape == rgb.shape and seen[-1] == 1.0
    again = faces.detect_faces(result)
    detected = nearer = 0
    for _, source, target in pairs:
        overlaps = [(iou(target.box, face.box), face) for face in again]
        best_iou, found = max(overlaps, key=lambda item: item[0], default=(0.0, None))
        if found is None or best_iou < 0.4:
            continue
        detected += 1
        to_friend = np.linalg.norm(found.embedding - source.embedding)
        to_stranger = np.linalg.norm(found.embedding - target.embedding)
        nearer += to_friend < to_stranger
    assert detected >= 0.95 * len(pairs)
    assert nearer >= 0.9 * len(pairs)


def test_best_source_follows_the_target_turn(identity_data, crowd_faces) -> None:
    _, crowd = crowd_faces["group-cc0.jpg"]
    turned = min(crowd, key=lambda face: face.quality["frontalness"])
    assert abs(turned.quality["yaw"]) > 0.4
    jolie = [
        face
        for label, found in zip(identity_data.labels, identity_data.faces, strict=True)
        if label == "angelina_jolie"
        for face in found
    ]
    generic = jolie[swap.best_source(jolie)]
    fitted = jolie[swap.best_source(jolie, turned)]
    assert abs(fitted.quality["yaw"] - turned.quality["yaw"]) < abs(generic.quality["yaw"] - turned.quality["yaw"])


def test_best_source_prefers_large_frontal_sharp(identity_data) -> None:
    index = next(i for i, path in enumerate(identity_data.paths) if path.endswith("elon_musk/img67.jpg"))
    found = identity_data.faces[index]
    assert found[swap.best_source(found)].quality["size"] > 100


def test_swap_at_the_image_border(crowd_faces, identity_data) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    target = max(crowd, key=lambda face: face.box[0])  # the man at the right edge
    left, top, width, height = target.box
    # Crop so the face is cut by the right and top edges.
    cropped = np.ascontiguousarray(rgb[top + height // 4 :, : left + width * 3 // 4])
    shifted = faces.Face(
        box=(left, height // 4 * 0, width * 3 // 4, height - height // 4),
        landmarks=target.landmarks - np.array([0, top + height // 4]),
        embedding=target.embedding,
        quality=target.quality,
        usable=False,
    )
    source_path, source = _sources(identity_data)["george_clooney"]
    result = swap.swap_faces(cropped, [(images.load_image(source_path), source, shifted)])
    assert result.shape == cropped.shape
    assert np.abs(result.astype(int) - cropped).mean() > 0.1  # something was painted in


def test_answer_box_is_normalised_and_clipped() -> None:
    face = faces.Face(box=(50, 20, 100, 40), landmarks=np.zeros((68, 2)), embedding=np.zeros(128))
    assert swap.answer_box(face, (200, 100)) == pytest.approx((0.25, 0.2, 0.5, 0.4))
    edge = faces.Face(box=(150, 80, 100, 40), landmarks=np.zeros((68, 2)), embedding=np.zeros(128))
    x, y, w, h = swap.answer_box(edge, (200, 100))
    assert (x, y) == pytest.approx((0.75, 0.8)) and x + w == pytest.approx(1.0) and y + h == pytest.approx(1.0)
