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


# The shared portraits looked at by eye: teeth or tongue showing, or lips together. Left out: elon_musk/img19,
# george_clooney/img41, jack_dorsey/img59 and scarlett_johansson/img47 and img48, whose parted lips show a glimpse
# of teeth (either reading will do there).
OPEN_BY_EYE = (
    "angelina_jolie/img1 elon_musk/img18 elon_musk/img67 george_clooney/img38 george_clooney/img39 jack_dorsey/img17 "
    "katy_perry/img28 katy_perry/img42 katy_perry/img43 katy_perry/img44 katy_perry/img46 marissa_mayer/img22 "
    "marissa_mayer/img23 mark_zuckerberg/img15 mark_zuckerberg/img57 mark_zuckerberg/img58 scarlett_johansson/img49 "
    "scarlett_johansson/img50 scarlett_johansson/img51 scarlett_johansson/img8 scarlett_johansson/img9 "
    "sundar_pichai/img24 sundar_pichai/img25"
).split()
CLOSED_BY_EYE = (
    "angelina_jolie/img10 angelina_jolie/img11 angelina_jolie/img2 angelina_jolie/img4 angelina_jolie/img5 "
    "angelina_jolie/img6 angelina_jolie/img7 george_clooney/img40 jack_dorsey/img16 jack_dorsey/img61 "
    "jeff_bezos/img20 jeff_bezos/img21 jennifer_aniston/img12 jennifer_aniston/img3 jennifer_aniston/img53 "
    "jennifer_aniston/img54 jennifer_aniston/img55 jennifer_aniston/img56 katy_perry/img26 katy_perry/img27 "
    "katy_perry/img45 leonardo_dicaprio/img34 leonardo_dicaprio/img35 leonardo_dicaprio/img36 leonardo_dicaprio/img37 "
    "mark_zuckerberg/img13 mark_zuckerberg/img14 matt_damon/img29 matt_damon/img30 matt_damon/img31 matt_damon/img32 "
    "matt_damon/img33"
).split()


def test_open_mouths_agree_with_the_eye(friend_faces) -> None:
    def is_open(name: str) -> bool:
        person, photo = name.split("/")
        return traits.expression_of(
            max(
                (face for path, face in friend_faces[person] if path.endswith(f"/{photo}.jpg")),
                key=lambda face: face.quality["size"],
            )
        ).mouth_is_open

    right = sum(is_open(name) for name in OPEN_BY_EYE) + sum(not is_open(name) for name in CLOSED_BY_EYE)
    # Measured: 54 of 55 with the mesh's points at 0.10 (elon_musk/img18's teeth barely show); 51 at 0.12, the
    # threshold measured on dlib's points, which read a fifth of these open mouths as closed with the mesh.
    assert right >= 0.95 * (len(OPEN_BY_EYE) + len(CLOSED_BY_EYE))


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
    # Each has photos with teeth showing and photos with lips together (looked at by eye). Not scarlett_johansson any
    # more: her two least open photos show teeth between parted lips, which the mesh's points read as open.
    for person in ("angelina_jolie", "katy_perry", "mark_zuckerberg"):
        found = [face for _, face in friend_faces[person]]
        assert any(traits.expression_of(f).mouth_is_open for f in found)
        assert any(not traits.expression_of(f).mouth_is_open for f in found)
        for_shouting = found[swap.best_source(found, shouting).face_index]
        for_calm = found[swap.best_source(found, calm).face_index]
        assert traits.expression_of(for_shouting).mouth_is_open, person
        assert not traits.expression_of(for_calm).mouth_is_open, person


def test_expression_survives_storage(friend_faces) -> None:
    face = _face(friend_faces, "scarlett_johansson", "img50.jpg")
    stored = traits.expression_of(face)
    assert stored == expression.Expression(
        **{key: face.quality[f"expr_{key}"] for key in expression.Expression.__dataclass_fields__}
    )
    assert abs(stored.mouth_open - expression.read(face.landmarks).mouth_open) < 1e-3
