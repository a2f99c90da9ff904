"""Swapping friends into crowds: the friend is recognisable and still a face; borders are safe."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from swaps.pipeline import expression, faces, fit, glasses, hiding, images, masks, matching, quality, swap, traits


def _sources(identity_data) -> dict[str, tuple[str, faces.Face]]:
    """Return each person's best source photo and face, whatever the target."""
    candidates: dict[str, list[tuple[str, faces.Face]]] = {}
    for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True):
        candidates.setdefault(label, []).extend((path, face) for face in found)
    result = {}
    for label, items in candidates.items():
        result[label] = items[swap.best_source([face for _, face in items]).face_index]
    return result


def test_swapped_faces_look_like_the_friend_and_stay_faces(crowd_faces, friend_faces, person_embeddings) -> None:
    totals = np.zeros(4, dtype=int)  # swaps, detected, nearest of the room, nearer than the stranger
    for crowd_name in ("stadium.jpg", "group-cc0.jpg", "selfie-many-people.jpg"):
        totals += _swap_and_find(crowd_name, crowd_faces, friend_faces, person_embeddings)
    swaps, detected, nearest, nearer = totals
    assert swaps >= 10  # stadium.jpg's faces of 36 px and more, group-cc0.jpg's one, the selfie's
    assert detected >= 0.95 * swaps
    assert nearest >= 0.9 * swaps
    # Stricter, and traded on purpose for the target's skin, light and mouth: nearer the friend's photo than the
    # stranger whose face it replaced (19 of 19 on faces of 32 px and more when the friend was pasted whole; 15-18
    # of 19 since, several by a hair at 36 px).
    assert nearer >= 0.75 * swaps


def _swap_and_find(crowd_name, crowd_faces, friend_faces, person_embeddings) -> np.ndarray:
    """Return (swaps, detected, nearest the friend among the room, nearer the friend than the stranger)."""
    rgb, crowd = crowd_faces[crowd_name]
    crowd = _hosts(crowd)
    height, width = rgb.shape[:2]
    hiding.annotate_missing(rgb, crowd)
    friends = {name: [face for _, face in items] for name, items in friend_faces.items()}
    # Every face large enough to host (36 px and more).
    matches = matching.assign(friends, crowd, image_size=(width, height), difficulty="hard")
    # group-cc0.jpg: one face can host (the others are turned away, bowed or cut by the edge).
    assert len(matches) >= 1
    pairs = []
    for m in matches:
        # As the app does: per target, the friend's photo whose expression and head turn are most like it.
        chosen = swap.best_source(friends[m.identity], crowd[m.target])
        path, source = friend_faces[m.identity][chosen.face_index]
        source_rgb, source = faces.oriented(images.load_image(path), source, chosen.mirrored)
        pairs.append((source_rgb, source, crowd[m.target]))
    seen: list[float] = []
    result = swap.swap_faces(rgb, pairs, progress=lambda fraction, _message: seen.append(fraction))
    assert result.shape == rgb.shape and seen[-1] == 1.0
    detected = nearest = nearer = 0
    for m, (_, source, target) in zip(matches, pairs, strict=True):
        # Found again where it was (detected in a crop around it, as the recognisability check does).
        found = quality.reembed(result, target)
        if found is None:
            continue
        detected += 1
        # What players need: the friend is the nearest of the room's people.
        nearest += quality.rank_of(m.identity, found.embedding, person_embeddings)[0] == 1
        to_friend = np.linalg.norm(found.embedding - source.embedding)
        to_stranger = np.linalg.norm(found.embedding - target.embedding)
        nearer += to_friend < to_stranger
    return np.array([len(pairs), detected, nearest, nearer])


def _cheek_edges(shape: tuple[int, int], landmarks: np.ndarray) -> list[np.ndarray]:
    """Return masks of the two strips along the face outline from the temples to the cheeks, where hair lands."""
    face_size = float(max(np.ptp(landmarks, axis=0)))
    # The friend's eyes and brow ends land near the stranger's: they may be darker, they are not hair.
    eyes = masks.features_mask(shape, landmarks, face_size * 0.1, masks.BROWS + masks.EYES) > 0
    strips = []
    for outline in (np.vstack([landmarks[17:19], landmarks[0:4]]), np.vstack([landmarks[25:27], landmarks[13:17]])):
        inner = landmarks[30] + (outline - landmarks[30]) * 0.65
        strip = np.zeros(shape, dtype=np.uint8)
        cv2.fillPoly(strip, [np.round(np.vstack([outline, inner[::-1]])).astype(np.int32)], 255)
        strips.append((strip > 0) & ~eyes)
    return strips


def _changed_in_face(before: np.ndarray, after: np.ndarray, target: faces.Face) -> float:
    """Return the mean absolute change of the pixels inside ``target``'s outline.

    Not its box: RetinaFace's calibrated boxes take in hair and background around the face (group-cc0.jpg's blonde
    woman: 127 px where HOG's was 111), which no swap changes.
    """
    inside = quality.face_region(before.shape[:2], target.landmarks, shrink=1.0) > 0
    return float(np.abs(after.astype(int) - before)[inside].mean())


def _hosts(crowd: list[faces.Face]) -> list[faces.Face]:
    """Return the faces that may take a friend, as the app chooses them (group-cc0.jpg: the woman in the middle)."""
    return [face for face in crowd if faces.can_host(face.quality)]


def _group_pairs(crowd_faces, identity_data, person_embeddings) -> tuple[np.ndarray, list]:
    """Return group-cc0.jpg and its swaps: the friend placed on its one host, and jennifer_aniston/img56.jpg there."""
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    crowd = _hosts(crowd)
    sources = _sources(identity_data)
    matches = matching.assign(person_embeddings, crowd, image_size=(rgb.shape[1], rgb.shape[0]))
    pairs = [(images.load_image(sources[m.identity][0]), sources[m.identity][1], crowd[m.target]) for m in matches]
    # Her hair falls over her temples (likeness alone now places angelina_jolie on that face, not her).
    path, source = next(
        (path, face)
        for path, found in zip(identity_data.paths, identity_data.faces, strict=True)
        if path.endswith("jennifer_aniston/img56.jpg")
        for face in found
    )
    return rgb, [*pairs, (images.load_image(path), source, crowd[0])]


def test_swap_leaves_no_friend_hair_on_the_cheeks(crowd_faces, identity_data, person_embeddings) -> None:
    # jennifer_aniston's hair falls over her temples; pasting the hull of her landmarks onto the turned woman in
    # group-cc0.jpg laid a blonde strand across that woman's cheek (top-decile lightness 89 -> 157 there; 89 -> 90 now).
    rgb, pairs = _group_pairs(crowd_faces, identity_data, person_embeddings)
    assert len(pairs) == 2
    before = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
    for source_rgb, source, target in pairs:
        result = swap.swap_faces(rgb, [(source_rgb, source, target)])
        after = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
        assert _changed_in_face(rgb, result, target) > 5.0  # the face was swapped
        for strip in _cheek_edges(rgb.shape[:2], target.landmarks):
            # Hair lighter or darker than the stranger's skin moves the strip's brightest or darkest tenth.
            for q in (10, 90):
                assert abs(np.percentile(after[strip], q) - np.percentile(before[strip], q)) < 15


def test_swap_paints_no_dyed_hair_or_background(crowd_faces, identity_data, person_embeddings) -> None:
    rgb, pairs = _group_pairs(crowd_faces, identity_data, person_embeddings)
    for source_rgb, source, target in pairs:
        # Dye everything of the friend's photo beyond the jaw and brows green: hair, forehead, background.
        dyed = source_rgb.copy()
        face = np.zeros(dyed.shape[:2], dtype=np.uint8)
        cv2.fillConvexPoly(face, cv2.convexHull(np.round(source.landmarks[:27]).astype(np.int32)), 255)
        dyed[face == 0] = (40, 200, 60)
        result = swap.swap_faces(rgb, [(dyed, source, target)])
        # Skin, hair and the office behind have a* >= 0 (128 in 8-bit Lab); the dye stays far below even after the
        # colour transfer.
        green = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[..., 1].astype(int) < 118
        was_green = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 1].astype(int) < 118
        # Blue-green irises are green to this measure too (jennifer_aniston/img3.jpg): eyes are not dye.
        size = float(max(np.ptp(target.landmarks, axis=0)))
        green &= masks.features_mask(rgb.shape[:2], target.landmarks, size * 0.03, masks.EYES) == 0
        left, top, width, height = target.box
        box = (slice(max(0, top - height // 2), top + height), slice(max(0, left - width // 2), left + width * 3 // 2))
        assert _changed_in_face(rgb, result, target) > 5.0  # the face was swapped
        assert (green[box] & ~was_green[box]).sum() <= 0.002 * width * height


def test_swap_matches_the_targets_skin_tone(crowd_faces, identity_data, friend_faces) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    crowd = _hosts(crowd)
    hiding.annotate_missing(rgb, crowd)
    friends = {name: [face for _, face in items] for name, items in friend_faces.items()}
    matches = matching.assign(friends, crowd, image_size=(rgb.shape[1], rgb.shape[0]))
    assert len(matches) == 1  # the one face of group-cc0.jpg that can host
    lab_before = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(float)
    for m in matches:
        # As the command line does: the friend's usable photo turned most like the target.
        usable = [
            (path, face)
            for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True)
            if label == m.identity
            for face in found
            if face.usable
        ]
        target = crowd[m.target]
        chosen = swap.best_source([face for _, face in usable], target)
        path, source = usable[chosen.face_index]
        source_rgb, source = faces.oriented(images.load_image(path), source, chosen.mirrored)
        result = swap.swap_faces(rgb, [(source_rgb, source, target)])
        # Both cheeks, well inside the outline and clear of eyes and mouth.
        cheeks = np.zeros(rgb.shape[:2], dtype=np.uint8)
        for polygon in ([1, 3, 48, 31, 40], [15, 13, 54, 35, 47]):
            cv2.fillConvexPoly(cheeks, np.round(target.landmarks[polygon]).astype(np.int32), 255)
        before = lab_before[cheeks > 0]
        after = cv2.cvtColor(result, cv2.COLOR_RGB2LAB).astype(float)[cheeks > 0]
        assert np.abs(after - before).mean() > 2.0  # the face was swapped
        # The median cheek colour stays within a few 8-bit Lab units of the stranger's own. Measured: 1.4 to 2.2;
        # matching over the whole hull, hair and all, left jennifer_aniston's face 45 units lighter than the neck.
        assert np.linalg.norm(np.median(after, axis=0) - np.median(before, axis=0)) < 8.0


def test_glasses_are_found_only_on_faces_wearing_them(crowd_faces, identity_data) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    # Top to bottom: the face cut by the top edge, the woman, the bowed man, the profile, the man with glasses.
    assert [glasses.wears_glasses(rgb, face.landmarks) for face in crowd] == [False, False, False, False, True]
    for path, label, found in zip(identity_data.paths, identity_data.labels, identity_data.faces, strict=True):
        photo = images.load_image(path)
        for face in found:
            if face.quality["size"] >= 100:
                # sundar_pichai wears glasses in both his photos; nobody else does.
                assert glasses.wears_glasses(photo, face.landmarks) == (label == "sundar_pichai"), path


def test_swap_keeps_the_targets_glasses_in_front(crowd_faces, identity_data) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    target = crowd[4]  # the man with rimless glasses, head turned: one temple arm runs to his ear
    frames = glasses.frames_mask(rgb, target.landmarks) > 0
    assert frames.sum() > 200
    source_path, source = _sources(identity_data)["george_clooney"]
    result = swap.swap_faces(rgb, [(images.load_image(source_path), source, target)])

    def thin_lines(image: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
        dark = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, kernel)
        return np.maximum(dark, cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)).astype(float)

    # The stranger's glasses stay over the friend's face as crisp as they were: painted out, the rims were
    # half-transparent ghosts across the friend's eyes (blind test). The face behind them did change.
    assert thin_lines(result)[frames].mean() > 0.8 * thin_lines(rgb)[frames].mean()
    x, y, w, h = (int(v) for v in target.box)
    assert np.abs(result[y : y + h, x : x + w].astype(float) - rgb[y : y + h, x : x + w]).mean() > 4


def test_small_faces_wearing_glasses_host_no_friend(crowd_faces, identity_data) -> None:
    # Under glasses.MIN_FACE_PX a face's frames cannot be told from its skin: no friend is put behind them.
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    target = crowd[4]
    friend = fit.profile(
        [
            face
            for label, found in zip(identity_data.labels, identity_data.faces, strict=True)
            if label == "george_clooney"
            for face in found
        ]
    )
    small = dataclasses.replace(target, quality={**target.quality, "size": 60.0, "glasses": 1.0})
    verdict = fit.pair_fit(friend, small, difficulty="easy")
    assert not verdict.allowed and verdict.vetoed
    assert any("glasses" in reason for reason in verdict.reasons)
    bare = dataclasses.replace(target, quality={**target.quality, "size": 60.0, "glasses": 0.0})
    assert not any("glasses" in reason for reason in fit.pair_fit(friend, bare, difficulty="easy").reasons)


def test_best_source_follows_the_target_turn(identity_data, crowd_faces) -> None:
    _, crowd = crowd_faces["group-cc0.jpg"]
    turned = [face for face in crowd if abs(face.quality["yaw"]) > 0.25]  # everyone but the bowed man
    assert len(turned) >= 3
    jolie = [
        face
        for label, found in zip(identity_data.labels, identity_data.faces, strict=True)
        if label == "angelina_jolie"
        for face in found
    ]
    generic = jolie[swap.best_source(jolie).face_index]
    gaps = []
    for target in turned:
        chosen = swap.best_source(jolie, target)
        # A photo used mirrored is turned the other way.
        fitted = jolie[chosen.face_index].quality["yaw"] * (-1 if chosen.mirrored else 1)
        gaps.append((abs(fitted - target.quality["yaw"]), abs(generic.quality["yaw"] - target.quality["yaw"])))
    assert all(fitted <= generic for fitted, generic in gaps)
    assert any(fitted < generic - 0.1 for fitted, generic in gaps), gaps


def test_a_photo_turned_the_other_way_is_used_mirrored(friend_faces, crowd_faces) -> None:
    # Every george_clooney photo is frontal or turned toward the image's right (head-pose yaw 0 to 16 degrees);
    # couple.jpg's man turns 35 degrees the other way. Warped across, a turned photo's features came out skewed
    # (blind test: jeff_bezos on a turned stadium face); mirrored, one turned 13-16 degrees is nearer.
    rgb, crowd = crowd_faces["couple.jpg"]
    target = crowd[0]
    hiding.annotate_missing(rgb, [target])
    assert traits.expression_of(target).yaw < -30
    photos = friend_faces["george_clooney"]
    assert all(traits.expression_of(face).yaw > -1 for _, face in photos)
    chosen = swap.best_source([face for _, face in photos], target)
    assert chosen.mirrored
    path, face = photos[chosen.face_index]
    assert traits.expression_of(face).yaw > 10
    # The fit reads the same: the pair's expression-and-pose mismatch is the mirrored photo's.
    wanted = traits.expression_of(target)
    plain = min(expression.mismatch(wanted, traits.expression_of(f)) for _, f in photos)
    assert fit.best_expression_mismatch(fit.profile([f for _, f in photos]), target)[0] < plain - 0.1
    # A frontal target keeps the photos as they are.
    _, group = crowd_faces["group-cc0.jpg"]
    frontal = min(group, key=lambda f: abs(traits.expression_of(f).yaw))
    assert not swap.best_source([face for _, face in photos], frontal).mirrored

    photo = images.load_image(path)
    flipped, mirrored = faces.mirrored(photo, face)
    assert np.array_equal(flipped, photo[:, ::-1])
    width = photo.shape[1]
    assert mirrored.box == (width - face.box[0] - face.box[2], face.box[1], face.box[2], face.box[3])
    # Located again on the flipped photo: each point is its mirror image's (left and right exchange).
    swapped_sides = [*range(16, -1, -1), *range(26, 16, -1), *range(27, 31), *range(35, 30, -1)]
    swapped_sides += [45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40]
    swapped_sides += [*range(54, 47, -1), *range(59, 54, -1), *range(64, 59, -1), *range(67, 64, -1)]
    expected = np.asarray(face.landmarks)[swapped_sides].copy()
    expected[:, 0] = width - 1 - expected[:, 0]
    error = np.linalg.norm(np.asarray(mirrored.landmarks) - expected, axis=1)
    assert np.median(error) < 0.02 * face.quality["size"], np.median(error)
    assert mirrored.quality["expr_yaw"] == -face.quality["expr_yaw"]
    assert abs(expression.read(mirrored.landmarks).yaw + traits.expression_of(face).yaw) < 5
    assert mirrored.mesh is not None and np.array_equal(mirrored.embedding, face.embedding)


def test_a_mirrored_source_is_swapped_in_and_reported(friend_faces, crowd_faces, person_embeddings) -> None:
    # george_clooney on couple.jpg's man (as above), placed by the host: his photo is used mirrored, the swap is still
    # nearest him among the room, and the result says the photo was mirrored.
    rgb, crowd = crowd_faces["couple.jpg"]
    friends = {"george_clooney": [face for _, face in friend_faces["george_clooney"]]}
    result = hiding.hide_friends(
        rgb,
        crowd,
        friends,
        lambda key, i: images.load_image(friend_faces[key][i][0]),
        pins={"george_clooney": 0},
        room=person_embeddings,
    )
    (hidden,) = result.hidden
    assert hidden.target == 0 and hidden.mirrored and hidden.rank == 1


def test_best_source_avoids_a_photo_with_much_darker_brows_and_eyes(friend_faces, crowd_faces, monkeypatch) -> None:
    # leonardo_dicaprio/img35.jpg (heavy lids, dark brows: feature darkness 51 L* against his skin) is his largest,
    # sharpest photo; on strangers with lighter features it came out as a narrowed eye and a harsh face in every blind
    # set. On group-cc0.jpg's woman (24 L*) a photo nearer her features is chosen; without the cost, img35. Among the
    # photos as they are: mirrored, img34 matches her head turn best with or without the cost.
    monkeypatch.setattr(expression, "MIRRORED_COST", 10.0)
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    (woman,) = [face for face in crowd if faces.can_host(face.quality)]
    hiding.annotate_missing(rgb, [woman])
    photos = friend_faces["leonardo_dicaprio"]
    darkness = {path.rsplit("/", 1)[1]: face.quality["feature_darkness"] for path, face in photos}
    assert darkness["img35.jpg"] > woman.quality["feature_darkness"] + 20, (darkness, woman.quality)
    chosen = photos[swap.best_source([face for _, face in photos], woman).face_index][0]
    assert not chosen.endswith("img35.jpg") and darkness[chosen.rsplit("/", 1)[1]] < darkness["img35.jpg"] - 10
    monkeypatch.setattr(swap, "DARKER_FEATURES_COST", 0.0)
    assert photos[swap.best_source([face for _, face in photos], woman).face_index][0].endswith("img35.jpg")


def test_best_source_leaves_a_lipstick_photo_for_bare_lips(friend_faces, crowd_faces, monkeypatch) -> None:
    # scarlett_johansson's photo with the target's expression and turn often wears lipstick (img49-51, 0.6-1.0): the
    # lips take the target's redness but not its hue, and her orange lipstick on a bare-lipped woman was caught by both
    # viewers of four blind sets. For the selfie's bare-lipped woman a bare-lipped photo of hers is chosen.
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    hiding.annotate_missing(rgb, crowd)
    target = crowd[3]
    assert faces.can_host(target.quality) and target.quality["lipstick"] < 0.1
    photos = [face for _, face in friend_faces["scarlett_johansson"]]
    assert photos[swap.best_source(photos, target).face_index].quality["lipstick"] < 0.2
    monkeypatch.setattr(swap, "LIPSTICK_COST", 0.0)
    assert photos[swap.best_source(photos, target).face_index].quality["lipstick"] > 0.5


def test_best_source_leaves_a_photo_looking_aside_for_a_face_looking_ahead(
    friend_faces, crowd_faces, monkeypatch
) -> None:
    # jack_dorsey/img17.jpg glances sideways: on a stranger looking into the camera his eyes read as distorted or
    # misaligned, and every viewer of two blind sets caught it. His other photos look ahead. Without the cost it was
    # chosen for 13 of the stadium's 23 faces (5 of them at GAZE_COST 3).
    names = [path.rsplit("/", 1)[-1] for path, _ in friend_faces["jack_dorsey"]]
    found = [face for _, face in friend_faces["jack_dorsey"]]
    gazes = {name: face.quality["gaze"] for name, face in zip(names, found, strict=True) if "gaze" in face.quality}
    assert gazes["img17.jpg"] > 0.12
    assert all(abs(gaze) < swap.GAZE_FREE for name, gaze in gazes.items() if name != "img17.jpg")
    rgb, crowd = crowd_faces["stadium.jpg"]
    hiding.annotate_missing(rgb, crowd)
    # The stadium's faces are too small for their gaze to be read: they count as looking ahead.
    targets = [face for face in crowd if faces.can_host(face.quality)]
    assert all("gaze" not in face.quality for face in targets)
    assert "img17.jpg" not in [names[swap.best_source(found, face).face_index] for face in targets]
    monkeypatch.setattr(swap, "GAZE_COST", 0.0)
    assert [names[swap.best_source(found, face).face_index] for face in targets].count("img17.jpg") >= 10
    # In a mirror the eyes look the other way.
    jack = next((path, face) for path, face in friend_faces["jack_dorsey"] if path.endswith("/img17.jpg"))
    _, flipped = faces.mirrored(images.load_image(jack[0]), jack[1])
    assert flipped.quality["gaze"] == -jack[1].quality["gaze"]


def test_best_source_prefers_large_frontal_sharp(identity_data) -> None:
    index = next(i for i, path in enumerate(identity_data.paths) if path.endswith("elon_musk/img67.jpg"))
    found = identity_data.faces[index]
    assert found[swap.best_source(found).face_index].quality["size"] > 100


def test_swap_at_the_image_border(crowd_faces, identity_data) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    target = crowd[4]  # the man at the right edge (crowd[0], further right, is cut by the top edge)
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
