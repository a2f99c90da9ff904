"""Expression and head pose from landmarks, and the friend's photo chosen to match the target's."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from swaps.pipeline import expression, swap, traits


def _face(friend_faces, person: str, photo: str):
    return next(face for path, face in friend_faces[person] if path.endswith(f"/{photo}"))


def test_mouth_open_and_smile_on_known_photos(friend_faces) -> None:
    # Looked at by eye: laughing with teeth apart, lips closed, a closed-lip smile.
    laughing = expression.read(_face(friend_faces, "scarlett_johansson", "img50.jpg").landmarks)
    closed = expression.read(_face(friend_faces, "leonardo_dicaprio", "img35.jpg").landmarks)
    assert laughing.mouth_is_open and laughing.smile > 0.8
    assert not closed.mouth_is_open and closed.smile < 0.2


def test_screaming_crowd_faces_read_as_open_mouths(crowd_faces) -> None:
    _, crowd = crowd_faces["stadium.jpg"]
    opened = [expression.read(face.landmarks).mouth_is_open for face in crowd]
    # A celebrating team: most shout or laugh, a few keep their lips together.
    assert 0.5 <= sum(opened) / len(opened) < 1.0


def test_head_turn_agrees_with_the_jaw_based_yaw(identity_data) -> None:
    read = [
        (expression.head_pose(face.landmarks)[0], face.quality["yaw"])
        for found in identity_data.faces
        for face in found
        if face.quality["size"] >= 80
    ]
    correlation = spearmanr([a for a, _ in read], [b for _, b in read]).statistic
    assert correlation < -0.8  # opposite sign conventions, same turn
    rolls = [abs(expression.head_pose(face.landmarks)[2]) for found in identity_data.faces for face in found]
    assert np.median(rolls) < 8


def test_source_photo_follows_the_target_expression(friend_faces, crowd_faces) -> None:
    _, crowd = crowd_faces["stadium.jpg"]
    shouting = max(crowd, key=lambda face: expression.read(face.landmarks).mouth_open)
    _, group = crowd_faces["group-cc0.jpg"]
    calm = min(group, key=lambda face: expression.read(face.landmarks).mouth_open)
    for person in ("scarlett_johansson", "katy_perry", "mark_zuckerberg"):
        found = [face for _, face in friend_faces[person]]
        assert any(traits.expression_of(f).mouth_is_open for f in found)
        assert any(not traits.expression_of(f).mouth_is_open for f in found)
        for_shouting = found[swap.best_source(found, shouting)]
        for_calm = found[swap.best_source(found, calm)]
        assert traits.expression_of(for_shouting).mouth_is_open, person
        assert not traits.expression_of(for_calm).mouth_is_open, person


def test_expression_survives_storage(friend_faces) -> None:
    face = _face(friend_faces, "scarlett_johansson", "img50.jpg")
    stored = traits.expression_of(face)
    assert stored == expression.Expression(
        **{key: face.quality[f"expr_{key}"] for key in expression.Expression.__dataclass_fields__}
    )
    assert abs(stored.mouth_open - expression.read(face.landmarks).mouth_open) < 1e-3
