"""Placing friends onto crowd faces."""

from __future__ import annotations

import numpy as np
import pytest

from swaps.pipeline import faces, matching


@pytest.mark.parametrize("crowd_name", ["couple.jpg", "selfie-many-people.jpg"])
def test_person_in_crowd_is_matched_to_her_own_face(crowd_faces, person_embeddings, crowd_name) -> None:
    rgb, crowd = crowd_faces[crowd_name]
    size = (rgb.shape[1], rgb.shape[0])
    jolie = person_embeddings["angelina_jolie"]
    nearest, distance = matching.lookalikes(jolie, crowd)[0]
    assert distance < 0.45  # a same-person distance: this really is her
    alone = matching.assign({"jolie": jolie}, crowd, image_size=size)
    assert [m.target for m in alone] == [nearest]
    # With everybody competing for the crowd, she still gets her own face.
    everyone = matching.assign(person_embeddings, crowd, image_size=size)
    assert {m.identity: m.target for m in everyone}["angelina_jolie"] == nearest


def test_assignment_is_one_to_one(crowd_faces, person_embeddings) -> None:
    rgb, crowd = crowd_faces["stadium.jpg"]
    matches = matching.assign(person_embeddings, crowd, image_size=(rgb.shape[1], rgb.shape[0]), difficulty="hard")
    # Women and men of the room on this crowd's ten faces of 36 px and more (six placed, measured).
    assert len(matches) >= 5
    assert len({m.target for m in matches}) == len(matches)
    assert all(m.fit is not None and m.fit.allowed for m in matches)


def test_lookalikes_sorted_and_limited(crowd_faces, person_embeddings) -> None:
    _, crowd = crowd_faces["stadium.jpg"]
    found = matching.lookalikes(person_embeddings["matt_damon"], crowd, k=5)
    assert len(found) == 5
    assert [d for _, d in found] == sorted(d for _, d in found)


def test_border_cut_face_costs_more(crowd_faces) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    # The one face of group-cc0.jpg that can host (crowd[0] is now the woman cut by the top edge, found by RetinaFace).
    face = next(face for face in crowd if faces.can_host(face.quality))
    same = np.array([face.embedding])

    def cut(inside: float) -> matching.Face:
        quality = {**face.quality, "inside": inside}
        return matching.Face(box=face.box, landmarks=face.landmarks, embedding=face.embedding, quality=quality)

    # A little cut, still a host: it costs more than the whole face.
    (match,) = matching.assign({"x": same}, [cut(0.92), face], image_size=(rgb.shape[1], rgb.shape[0]))
    assert match.target == 1
    # Half cut: never a host, as in the app.
    placement = matching.place({"x": same}, [cut(0.5)], image_size=(rgb.shape[1], rgb.shape[0]))
    assert not placement.matches and "outside the picture" in placement.unplaced["x"]


def test_empty_inputs() -> None:
    assert matching.assign({}, [], image_size=(10, 10)) == []
    assert matching.lookalikes(np.zeros((0, 128)), []) == []
