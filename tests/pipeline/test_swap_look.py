"""How a swap looks next to the faces around it: grain, sharpness, lips, mouth, occluders, recognisability."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from swaps.pipeline import colour, expression, faces, fit, hiding, images, masks, quality, swap, texture, traits


def _source(friend_faces, person: str, photo: str) -> tuple[np.ndarray, faces.Face]:
    path, face = next(item for item in friend_faces[person] if item[0].endswith(f"/{photo}"))
    return images.load_image(path), face


def _target(crowd_faces, name: str, left: int) -> tuple[np.ndarray, faces.Face]:
    """Return the crowd photo and its face whose box starts at ``left`` (within a few px, as detectors differ)."""
    rgb, crowd = crowd_faces[name]
    return rgb, min(crowd, key=lambda face: abs(face.box[0] - left))


def _polygon(shape, points) -> np.ndarray:
    mask = np.zeros(shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask > 0


@pytest.fixture(scope="module")
def hidden_in_crowds(crowd_faces, friend_faces):
    """Return (before, after, target, friend, rank) for every friend hidden in stadium.jpg and group-cc0.jpg (as a
    host who ticks them all: each friend who fits a face)."""
    friends = {name: [face for _, face in items] for name, items in friend_faces.items()}
    found = []
    for name in ("stadium.jpg", "group-cc0.jpg"):
        rgb, crowd = crowd_faces[name]
        result = hiding.hide_friends(
            rgb, crowd, friends, lambda key, index: images.load_image(friend_faces[key][index][0])
        )
        found.extend((rgb, result.image, crowd[h.target], h.identity, h.rank) for h in result.hidden)
    return found


def test_swapped_faces_have_the_sharpness_and_grain_of_the_face_before(hidden_in_crowds) -> None:
    # Before issue 11 the pasted friend was a smooth mask: noise ratios 0.36-0.72 on these crowds.
    sharp, grain = [], []
    for before, after, target, _, _ in hidden_in_crowds:
        region = quality.face_region(before.shape[:2], target.landmarks)
        sharp.append(texture.sharpness(after, region) / texture.sharpness(before, region))
        grain.append(texture.noise(after, region) / texture.noise(before, region))
    # Six in stadium.jpg (its faces of 36 px and more), one in group-cc0.jpg: its only face that can host (the
    # others are turned away, bowed or cut by the edge; the fit refuses them as the app does).
    assert len(sharp) == 7
    # The issue's goal is 0.8-1.25. The grain's median was 0.90 while small faces' eyes were sharpened, which counted
    # as grain; 0.83 without. Over the skin alone (features left out) it is 0.87 either way.
    assert 0.85 <= np.median(sharp) <= 1.18 and 0.8 <= np.median(grain) <= 1.18
    assert min(sharp) >= 0.75 and max(sharp) <= 1.35
    assert min(grain) >= 0.7 and max(grain) <= 1.45


def test_swapped_faces_are_no_flatter_than_the_face_before(hidden_in_crowds) -> None:
    # A flat-lit friend photo, warped and resampled, lost the shading of the face it replaced ("washed out", "soft next
    # to the sharp hair", blind test). Its local contrast is raised to the target's: 0.94-1.09 of it on these seven
    # swaps, median 0.98; without, 0.87-1.00, median 0.90. Before the darkest tail was kept within the target's
    # (colour.keep_tonal_range) the raise reached 0.97-1.12, median 1.01: part of it was black nostrils and lips.
    ratios = []
    for before, after, target, _, _ in hidden_in_crowds:
        region = quality.face_region(before.shape[:2], target.landmarks)
        size = target.quality["size"]
        ratios.append(texture.local_contrast(after, region, size) / texture.local_contrast(before, region, size))
    assert len(ratios) == 7
    assert min(ratios) >= 0.92 and np.median(ratios) >= 0.96


def test_swapped_eyes_are_neither_softer_nor_crisper_than_the_eyes_they_replaced(hidden_in_crowds) -> None:
    # Shrunk from the working size, a small face's eyes once came out smeared (0.88-1.03 of the stranger's own focus
    # on stadium.jpg's 36-39 px faces); sharpened, 1.04-1.21, their darks then stood out in blind sets. Now
    # 0.87-1.01 there, and 1.27 on group-cc0.jpg's 127 px face.
    ratios = []
    for before, after, target, _, _ in hidden_in_crowds:
        eyes = masks.features_mask(before.shape[:2], target.landmarks[:68], target.quality["size"] * 0.04, masks.EYES)
        ratios.append(texture.sharpness(after, eyes) / texture.sharpness(before, eyes))
    assert len(ratios) == 7
    assert min(ratios) >= 0.85 and max(ratios) <= 1.3


def test_swapped_eyes_keep_to_the_lightness_of_the_eyes_they_replaced(hidden_in_crowds) -> None:
    """The swapped eyes are no lighter and no darker than the stranger's own, measured on its eye pixels.

    Lighter: a friend's whites under a stranger's narrower lids glowed as white crescents (blind test); the lightest of
    the swapped eyes (98th percentile) over the stranger's own (95th) was up to 12.3 L* on stadium.jpg and 16.9 on
    group-cc0.jpg without the cap, at most 4.9 and 10.2 with it. Darker: a friend's photo, sharper than the crowd's
    camera, put pupils, lashes and liner as black dots on a small face ("dark, smudged", "painted" eyes, blind sets);
    the darkest of the swapped eyes (2nd percentile) under the stranger's own darkest (5th) was 6.0-20.8 L* on these
    seven swaps without the clamp, at most 0.9 with it.
    """
    excess, deficit = [], []
    for before, after, target, _, _ in hidden_in_crowds:
        size = target.quality["size"]
        eyes = masks.features_mask(before.shape[:2], target.landmarks[:68], size * 0.03, masks.EYES) > 0
        own = masks.features_mask(before.shape[:2], target.landmarks[:68], 0, masks.EYES) > 0
        darkest, lightest = np.percentile(masks.to_lab(after)[..., 0][eyes], [2, 98])
        own_darkest, own_lightest = np.percentile(masks.to_lab(before)[..., 0][own], [5, 95])
        excess.append(float(lightest - own_lightest))
        deficit.append(float(own_darkest - darkest))
    assert len(excess) == 7
    assert max(excess) <= 11.0 and max(deficit) <= 2.0


def test_swapped_faces_are_no_darker_and_no_lighter_than_the_face_before(hidden_in_crowds) -> None:
    # Raised to the target's contrast and sharpened, a friend's dark features came out blacker than anything in the
    # stranger's face: matt_damon's darkest 1% on a 38 px stadium.jpg face 14.9 L* under the stranger's (black
    # nostrils and a black line for a mouth), katy_perry's lightest 1% 4.8 L* over. With the tails kept within the
    # target's: at most 1.5 darker and 0.8 lighter over these seven swaps.
    darker, lighter = [], []
    for before, after, target, _, _ in hidden_in_crowds:
        region = quality.face_region(before.shape[:2], target.landmarks) > 0
        own = np.percentile(masks.to_lab(before)[..., 0][region], [1, 99])
        swapped = np.percentile(masks.to_lab(after)[..., 0][region], [1, 99])
        darker.append(float(own[0] - swapped[0]))
        lighter.append(float(swapped[1] - own[1]))
    assert len(darker) == 7
    assert max(darker) <= 2.0 and max(lighter) <= 2.0


def test_the_tonal_range_is_only_ever_narrowed_to_the_targets() -> None:
    rng = np.random.default_rng(5)
    region = np.zeros((80, 80), dtype=np.uint8)
    region[10:70, 10:70] = 1

    def grey(levels: np.ndarray) -> np.ndarray:
        return np.repeat(levels.reshape(80, 80, 1).astype(np.float32), 3, axis=2)

    def lightness(image: np.ndarray) -> np.ndarray:
        return masks.to_lab(image)[..., 0][region > 0]

    def tails(image: np.ndarray) -> np.ndarray:
        return np.percentile(lightness(image), [colour.TONE_TAIL, 100 - colour.TONE_TAIL])

    middle = rng.uniform(60.0, 200.0, 6400)
    target = grey(middle)
    # The same face with a darker and a lighter twentieth: black nostrils, glowing teeth.
    wide = middle.copy()
    wide[middle < 67.0] -= 15.0
    wide[middle > 193.0] += 15.0
    wide = grey(wide)
    kept = colour.keep_tonal_range(wide, target, region)
    assert tails(wide)[0] < tails(target)[0] - 4 and tails(wide)[1] > tails(target)[1] + 4
    assert tails(kept) == pytest.approx(tails(target), abs=0.5)
    # The lightness between the knees and whatever lies outside the region stay as they were.
    low, high = np.percentile(lightness(wide), [colour.TONE_KNEE, 100 - colour.TONE_KNEE])
    between = (lightness(wide) > low) & (lightness(wide) < high)
    assert np.abs(lightness(kept) - lightness(wide))[between].max() < 0.3
    assert np.abs(kept - wide)[region == 0].max() < 0.5
    # A narrower face keeps its own range.
    narrow = grey(rng.uniform(110.0, 150.0, 6400))
    assert np.abs(colour.keep_tonal_range(narrow, target, region) - narrow).max() < 0.5

    # A target whose darkest 1% lies just short of the friend's knee, or past it, leaves the friend's darkest tenth
    # TONE_MIN_SQUEEZE of its spread: never pressed onto one level, and not left as black as it was either.
    levels = rng.uniform(30.0, 230.0, 6400)
    friend = grey(levels)
    reach = float(np.percentile(levels, colour.TONE_KNEE) - np.percentile(levels, colour.TONE_TAIL))
    for lighter_by in (reach - 1.0, reach + 20.0):
        squeezed = colour.keep_tonal_range(friend, grey(levels + lighter_by), region)
        knee = np.percentile(lightness(friend), colour.TONE_KNEE)
        spread = (knee - np.percentile(lightness(squeezed), colour.TONE_TAIL)) / (knee - tails(friend)[0])
        assert spread == pytest.approx(colour.TONE_MIN_SQUEEZE, abs=0.03)
    # A feathered weight fades the change out across the region's edge: half of it where the weight is half.
    weight = region.astype(np.float32)
    weight[10:70, 10] = 0.5
    faded = colour.keep_tonal_range(wide, target, region, weight)
    assert np.abs(kept[10:70, 10] - wide[10:70, 10]).max() > 5.0
    assert np.allclose(faded[10:70, 10] - wide[10:70, 10], (kept[10:70, 10] - wide[10:70, 10]) * 0.5, atol=0.01)
    assert np.array_equal(faded[10:70, 11:70], kept[10:70, 11:70])


def test_local_contrast_is_raised_to_the_targets_and_never_lowered() -> None:
    rng = np.random.default_rng(3)
    shading = cv2.GaussianBlur(rng.normal(0.0, 1.0, (120, 120)).astype(np.float32), (0, 0), 4.0)
    shading *= 30.0 / shading.std()
    target = np.repeat((128.0 + shading)[..., None], 3, axis=2)
    region = np.zeros((120, 120), dtype=np.float32)
    region[20:100, 20:100] = 1.0
    flat = 128.0 + (target - 128.0) * 0.7
    raised = texture.match_contrast(flat, target, region, 100.0)
    before = texture.local_contrast(flat, region, 100.0) / texture.local_contrast(target, region, 100.0)
    after = texture.local_contrast(raised, region, 100.0) / texture.local_contrast(target, region, 100.0)
    # At most CONTRAST_MAX_GAIN times its own; a smaller shortfall is closed.
    assert before == pytest.approx(0.7, abs=0.02) and after == pytest.approx(0.7 * texture.CONTRAST_MAX_GAIN, abs=0.01)
    near = 128.0 + (target - 128.0) * 0.9
    assert texture.local_contrast(texture.match_contrast(near, target, region, 100.0), region, 100.0) == pytest.approx(
        texture.local_contrast(target, region, 100.0), rel=0.01
    )
    assert np.array_equal(raised[region == 0], flat[region == 0])
    # A crisper result keeps its contrast.
    crisp = 128.0 + (target - 128.0) * 1.2
    assert np.array_equal(texture.match_contrast(crisp, target, region, 100.0), crisp.astype(np.float32))


def test_grain_reaches_the_face_before_and_never_overshoots(crowd_faces) -> None:
    """Grain added to a smoothed copy of every host face of the shared crowds lands within 0.9-1.1 of the face's noise.

    A one-step correction overshot to 1.5x on 8 of 18 tries in selfie-many-people.jpg: speckled faces.
    """
    ratios = []
    for name in ("stadium.jpg", "selfie-many-people.jpg", "group-cc0.jpg"):
        rgb, crowd = crowd_faces[name]
        for seed, face in enumerate(crowd):
            left, top, width, height = face.box
            crop = rgb[top : top + height, left : left + width].astype(np.float32)
            region = np.zeros((height, width), dtype=np.uint8)
            cv2.ellipse(region, (width // 2, height // 2), (width * 2 // 5, height * 9 // 20), 0, 0, 360, 1, -1)
            for blur in (0.7, 1.5):
                grained = texture.match_noise(cv2.GaussianBlur(crop, (0, 0), blur), crop, region, seed)
                ratios.append(texture.noise(grained, region) / texture.noise(crop, region))
    assert len(ratios) >= 50
    assert min(ratios) >= texture.MATCHED[0] - 0.05 and max(ratios) <= 1.0 + 1e-6


def test_small_swapped_faces_are_no_more_colourful_in_detail_than_the_face_before(hidden_in_crowds) -> None:
    """The colour detail (a*, b* above the colour blur) of stadium.jpg's swapped 36-39 px faces against the stranger's.

    A friend photo's magenta lips, red eye rims and cyan teeth came along at full strength: 1.3-2.2x the stranger's
    colour detail (median 1.66). With half of it kept (swap.CHROMA_DETAIL), the eyes excepted: 1.08-1.58, median 1.40
    (0.96-1.51 with the eyes too, whose blue a blue-eyed friend then lost).
    """
    ratios = []
    for before, after, target, _, _ in hidden_in_crowds:
        size = target.quality["size"]
        if size > swap.TARGET_LOW_FULL_PX:
            continue
        region = quality.face_region(before.shape[:2], target.landmarks) > 0
        sigma = max(0.6, size * swap.COLOUR_SIGMA_FRACTION)
        detail = []
        for image in (before, after):
            chroma = masks.to_lab(image)[..., 1:]
            detail.append(float(np.sqrt(np.mean((chroma - cv2.GaussianBlur(chroma, (0, 0), sigma))[region] ** 2))))
        ratios.append(detail[1] / detail[0])
    assert len(ratios) == 6
    assert np.median(ratios) <= 1.5 and max(ratios) <= 1.75


def test_fine_detail_is_raised_to_the_faces_before_and_never_lowered(crowd_faces) -> None:
    """A softened copy of every host face of the shared crowds gets its bands finer than 2 px back.

    Sharpness (a ratio of two bands) does not see a face that is soft in every band: swapped small faces carried
    10-25% less energy there than the faces before and read as "smeared", "softer than the hair" (blind sets). In
    paired tests of the crowd-size swaps it changed, each rendered with and without the raise, side by side in random
    order, two fresh viewers preferred the raised one 26:0 and 26:0 ("crisper, matches the photo").
    """
    ratios, kept = [], []
    for name in ("stadium.jpg", "selfie-many-people.jpg", "group-cc0.jpg"):
        rgb, crowd = crowd_faces[name]
        for face in crowd:
            left, top, width, height = face.box
            crop = rgb[top : top + height, left : left + width].astype(np.float32)
            region = np.zeros((height, width), dtype=np.uint8)
            cv2.ellipse(region, (width // 2, height // 2), (width * 2 // 5, height * 9 // 20), 0, 0, 360, 1, -1)
            inside = region > 0
            soft = cv2.GaussianBlur(crop, (0, 0), 0.6)
            raised = texture.match_detail(soft, crop, region)
            energy = [[texture._rms(b, inside) for b in texture._detail_bands(x)] for x in (crop, soft, raised)]
            ratios.append([[s / c for s, c in zip(energy[k], energy[0], strict=True)] for k in (1, 2)])
            # A crisper result is left as it is.
            kept.append(np.array_equal(texture.match_detail(crop, soft, region), crop))
    ratios_array = np.array(ratios)  # face, (softened, raised), band
    assert len(ratios) >= 25 and all(kept)
    # Softened, the bands finer than 0.5 px, 0.5-1 px and 1-2 px keep a median 0.54, 0.65 and 0.85 of the face's energy;
    # raised, 0.77, 0.89 and 1.04 (each band by at most DETAIL_MAX_GAIN, and raising one lifts its neighbours a little).
    softened, raised = ratios_array[:, 0], ratios_array[:, 1]
    assert np.median(softened[:, 0]) < 0.6 and np.median(softened[:, 1]) < 0.7
    assert np.all(raised >= 1.05 * softened) and np.median(raised[:, 0] / softened[:, 0]) >= 1.35
    assert np.median(raised[:, 1]) >= 0.85 and np.median(raised[:, 2]) >= 0.95 and raised.max() <= 1.1


def test_hidden_friends_are_recognisable(hidden_in_crowds, person_embeddings) -> None:
    for _, after, target, friend, rank in hidden_in_crowds:
        assert rank == 1
        again = quality.reembed(after, target)
        assert again is not None
        assert quality.rank_of(friend, again.embedding, person_embeddings)[0] == 1


def test_a_face_too_small_to_recognise_is_given_up(crowd_faces, friend_faces, monkeypatch) -> None:
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    # Shrunk to 10 px faces, with the size floor lowered so only the check after the swap can refuse them.
    factor = 10.0 / min(face.quality["size"] for face in crowd)
    small = cv2.resize(rgb, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    shrunk = [quality.scaled(face, factor) for face in crowd]
    monkeypatch.setitem(fit.MIN_FACE_PX, "hard", 6.0)
    friends = {name: [face for _, face in items] for name, items in friend_faces.items()}
    result = hiding.hide_friends(
        small, shrunk, friends, lambda key, index: images.load_image(friend_faces[key][index][0]), difficulty="hard"
    )
    assert all(h.rank == 1 for h in result.hidden)
    assert any("not recognisable" in why for why in result.unplaced.values())


def test_closed_lips_get_no_white_line(crowd_faces, friend_faces) -> None:
    # mark_zuckerberg/img14.jpg: closed, glossy lips; the target, the bearded man facing the camera in the selfie,
    # smiles with its lips together.
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    closed = [f for f in crowd if faces.can_host(f.quality) and not traits.expression_of(f).mouth_is_open]
    target = max(closed, key=lambda face: face.quality["frontalness"])
    source_rgb, source = _source(friend_faces, "mark_zuckerberg", "img14.jpg")
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    mouth = _polygon(rgb.shape, target.landmarks[48:60])
    before = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0][mouth].astype(float)
    after = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[..., 0][mouth].astype(float)
    assert np.abs(after - before).mean() > 3  # the mouth was swapped
    # A streak of glint or teeth lights the mouth's brightest pixels (measured 170+ with it, 146 without).
    assert np.percentile(after, 99) <= np.percentile(before, 99) + 8


def test_lipstick_is_not_carried_onto_bare_lips(crowd_faces, friend_faces) -> None:
    # katy_perry/img26.jpg wears bright lipstick (a* 183 in 8-bit Lab); the blonde woman's lips are bare (139).
    rgb, crowd = crowd_faces["group-cc0.jpg"]
    (target,) = [face for face in crowd if faces.can_host(face.quality)]
    source_rgb, source = _source(friend_faces, "katy_perry", "img26.jpg")
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    lips = _polygon(rgb.shape, target.landmarks[48:60]) & ~_polygon(rgb.shape, target.landmarks[60:68])
    before = np.median(cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 1][lips])
    after = np.median(cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[..., 1][lips])
    # Measured: 19 before issue 11; 15 with the lips' colour shifted (it moved their paler half less); 6 with their
    # redness over the skin scaled to the target's.
    assert after - before < 10


def test_an_open_mouth_keeps_its_own_interior(crowd_faces, friend_faces) -> None:
    # The man laughing with his teeth showing, the widest-open mouth of the selfie (turned: the app would not put a
    # friend there, but a face it lets host may laugh the same way).
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    target = max(crowd, key=lambda face: traits.expression_of(face).mouth_open)
    source_rgb, source = _source(friend_faces, "leonardo_dicaprio", "img35.jpg")  # lips closed
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    interior = cv2.erode(_polygon(rgb.shape, target.landmarks[60:68]).astype(np.uint8), np.ones((3, 3))) > 0
    assert interior.sum() > 100
    left, top, width, height = target.box
    face_change = np.abs(result.astype(int) - rgb)[top : top + height, left : left + width].mean()
    assert face_change > 5
    assert np.abs(result.astype(int) - rgb)[interior].mean() < 0.6 * face_change


def test_a_friends_parted_lips_leave_no_teeth_around_an_open_mouth(crowd_faces, friend_faces) -> None:
    # jennifer_aniston/img54.jpg's lips are just parted (gap 0.07): over a laughing target whose own teeth are kept,
    # her teeth, stretched to the target's opening, left white specks along both lips (blind test, large faces).
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    target = max(crowd, key=lambda face: traits.expression_of(face).mouth_open)
    source_rgb, source = _source(friend_faces, "jennifer_aniston", "img54.jpg")
    assert swap.CLOSED_LIPS < traits.expression_of(source).mouth_open < expression.MOUTH_OPEN
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    interior = cv2.dilate(_polygon(rgb.shape, target.landmarks[60:68]).astype(np.uint8), np.ones((3, 3))) > 0
    lips = _polygon(rgb.shape, target.landmarks[48:60]) & ~interior
    before, after = (masks.to_lab(image)[..., 0][lips] for image in (rgb, result))
    # The lips' brightest pixels: measured 71.3 L* before, 70.8 after, 74.4 with the friend's teeth stretched.
    assert np.percentile(after, 99) <= np.percentile(before, 99) + 1.5


@pytest.mark.parametrize("occluder", ["flag", "hair"])
def test_what_covers_the_face_stays_in_front(crowd_faces, friend_faces, occluder) -> None:
    rgb, target = _target(crowd_faces, "stadium.jpg", 434)  # a 36 px face: the whole hull is pasted there
    points = target.landmarks
    covered = rgb.copy()
    if occluder == "flag":
        # A blue band along the left jaw, clear of the eyes, nose and mouth.
        inner = points[30] + (points[1:6] - points[30]) * 0.7
        band = _polygon(rgb.shape, np.vstack([points[1:6], inner[::-1]]))
        covered[band] = (30, 60, 200)
    else:
        # A dark fringe over the forehead, down to just above the brows.
        brows = points[17:27]
        band = _polygon(
            rgb.shape, np.vstack([brows + (brows - points[30]) * 0.15, (brows + (brows - points[30]))[::-1]])
        )
        covered[band] = (45, 30, 20)
    source_rgb, source = _source(friend_faces, "george_clooney", "img38.jpg")
    result = swap.swap_faces(covered, [(source_rgb, source, target)])
    left, top, width, height = target.box
    assert np.abs(result.astype(int) - covered)[top : top + height, left : left + width].mean() > 5
    # Measured: 41 (flag) and 4.2 (fringe) grey levels before issue 11, under 0.5 now.
    assert np.abs(result.astype(int) - covered)[band].mean() < 2


@pytest.mark.parametrize("left", [434, 1292, 345])
def test_a_friends_fringe_stays_out_of_a_small_face(crowd_faces, friend_faces, left) -> None:
    rgb, target = _target(crowd_faces, "stadium.jpg", left)  # 33-36 px: under SKIN_MASK_FROM_PX
    source_rgb, source = _source(friend_faces, "matt_damon", "img33.jpg")
    # A dark fringe over the friend's forehead, down to just above the brows: pasted whole, it came out as a pale band
    # across the stranger's brow once its colour was matched.
    points = source.landmarks
    brows = points[17:27]
    fringed = source_rgb.copy()
    fringed[
        _polygon(
            source_rgb.shape,
            np.vstack([brows + (brows - points[30]) * 0.12, (brows + (brows - points[30]) * 1.2)[::-1]]),
        )
    ] = (45, 30, 20)
    plain = swap.swap_faces(rgb, [(source_rgb, source, target)])
    result = swap.swap_faces(rgb, [(fringed, source, target)])
    assert np.abs(plain.astype(int) - rgb).mean() > 0.01  # the face was swapped
    points = target.landmarks
    brows = points[17:27]
    forehead = _polygon(
        rgb.shape, np.vstack([brows + (brows - points[30]) * 0.15, (brows + (brows - points[30]) * 0.8)[::-1]])
    )
    change = np.abs(masks.to_lab(result)[..., 0] - masks.to_lab(plain)[..., 0])[forehead].mean()
    # Measured on the three faces: 4.8, 3.8 and 4.0 L* with the whole hull pasted under 60 px; 0.8, 0.7 and 0.9 now.
    assert change < 2.5


def test_a_parted_fringe_takes_the_whole_forehead(friend_faces) -> None:
    source_rgb, source = _source(friend_faces, "matt_damon", "img33.jpg")
    points = swap._points(source, source, False)[0]
    brows, tip = points[17:27], points[30]
    up = brows - tip
    shape = source_rgb.shape[:2]
    forehead = swap._above(points[17:27], swap._upward(points[:68]), shape)
    # A fringe down to the brows, parted over a lit strip of skin (the skin likelihood says which is which).
    fringe = _polygon(shape, np.vstack([brows + up * 0.12, (brows + up * 1.5)[::-1]]))
    middle = (points[21, 0] + points[22, 0]) / 2.0
    bottom = brows[4:6, 1].min()
    parting = _polygon(shape, [(middle - 16, bottom), (middle - 16, 0), (middle + 16, 0), (middle + 16, bottom)])
    fringe &= ~parting
    fringed = source_rgb.copy()
    fringed[fringe] = (45, 30, 20)
    strip = parting & forehead
    fringed[strip] = (250, 235, 225)
    likelihood = np.where(fringe, 0.0, 1.0).astype(np.float32)
    painted = swap._paint_out_fringe(fringed, points, likelihood)
    strip &= cv2.erode(forehead.astype(np.uint8), masks.disc(6)) > 0
    # Painted around, the lit parting stayed a bright streak down a small face's forehead (blind test): it takes
    # the friend's skin colour with the rest of the forehead.
    assert strip.sum() > 50
    assert np.abs(painted[strip].astype(int) - (250, 235, 225)).mean() > 40


def test_only_hair_hanging_from_the_hairline_counts_as_a_fringe(friend_faces) -> None:
    source_rgb, source = _source(friend_faces, "matt_damon", "img33.jpg")
    points = np.asarray(source.landmarks, dtype=np.float64)[:68]
    shape = source_rgb.shape[:2]
    hull = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(swap._points(source, source, False)[0]).astype(np.int32)), 255)
    brows, tip = points[17:27], points[30]
    up = brows - tip
    # A strand from beyond the face down to just over a brow, and two patches of shine on the forehead.
    x = brows[2, 0]
    strand = _polygon(
        shape, [(x, brows[2, 1] + up[2, 1] * 0.1), (x, 0), (x + 8, 0), (x + 8, brows[2, 1] + up[2, 1] * 0.1)]
    )
    shine = np.zeros(shape, dtype=bool)
    for spot in (brows[[4, 5]].mean(axis=0) + up[[4, 5]].mean(axis=0) * 0.4, brows[6] + up[6] * 0.3):
        shine |= _polygon(shape, [spot + offset for offset in ((-4, -4), (4, -4), (4, 4), (-4, 4))])
    forehead = swap._above(brows, swap._upward(points), shape)
    hair = swap._fringe(points, hull, strand | shine | (hull == 0), forehead)
    low = np.arange(shape[0])[:, None] > brows[2, 1] + up[2, 1] * 0.7  # the strand's part over the forehead
    assert hair[strand & (hull > 0) & low].mean() > 0.9
    assert not hair[shine].any()
    assert not (hair & (hull == 0)).any()


def test_a_dense_mesh_is_used_when_both_faces_have_one(crowd_faces, friend_faces) -> None:
    # The bearded man of the selfie, who faces the camera, and a bearded friend: both come with MediaPipe's mesh.
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    target = max((face for face in crowd if faces.can_host(face.quality)), key=lambda f: f.quality["frontalness"])
    source_rgb, source = _source(friend_faces, "george_clooney", "img40.jpg")
    assert target.mesh is not None and source.mesh is not None
    # Each mesh vertex is warped once: the 68 landmarks are mesh vertices, and a vertex given two destinations
    # stretched slivers of the friend's photo between them (bright streaks at the brows and nostrils).
    src, dst, _ = swap._points(source, target, keep_mouth=False)
    assert len(src) == 468 and len(np.unique(np.round(src, 6), axis=0)) == 468
    assert len(np.unique(np.round(dst, 6), axis=0)) == 468
    meshed = swap.swap_faces(rgb, [(source_rgb, source, target)])
    plain = swap.swap_faces(
        rgb, [(source_rgb, dataclasses.replace(source, mesh=None), dataclasses.replace(target, mesh=None))]
    )
    left, top, width, height = target.box
    box = (slice(top, top + height), slice(left, left + width))
    assert np.abs(meshed.astype(int) - rgb)[box].mean() > 5  # swapped
    assert np.abs(meshed.astype(int) - plain)[box].mean() > 0.5  # by a warp that took the mesh
    far = np.ones(rgb.shape[:2], dtype=bool)
    far[max(0, top - height) : top + 2 * height, max(0, left - width) : left + 2 * width] = False
    assert np.array_equal(meshed[far], rgb[far])


def test_a_large_face_swapped_along_the_mesh_has_no_bright_streaks(crowd_faces, friend_faces) -> None:
    rgb, crowd = crowd_faces["couple.jpg"]
    target = min(crowd, key=lambda face: face.box[0])  # the woman, a 546 px face: every sliver shows
    source_rgb, source = _source(friend_faces, "jennifer_aniston", "img3.jpg")
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    region = quality.face_region(rgb.shape[:2], target.landmarks, shrink=1.0) > 0
    size = float(max(np.ptp(target.landmarks, axis=0)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (int(size * 0.02) | 1,) * 2)

    def thin_bright(image: np.ndarray) -> float:
        grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        return float(np.percentile(cv2.morphologyEx(grey, cv2.MORPH_TOPHAT, kernel)[region], 99.5))

    assert np.abs(result.astype(int) - rgb)[region].mean() > 5  # swapped
    # Measured: 36 before the swap, 37 after; 55 when the 68 landmarks and their mesh vertices were warped apart.
    assert thin_bright(result) <= thin_bright(rgb) + 8


def test_only_whitish_glints_are_painted_out_of_the_lips(friend_faces) -> None:
    def painted(person: str, photo: str) -> float:
        rgb, face = _source(friend_faces, person, photo)
        lips = _polygon(rgb.shape, face.landmarks[48:60])
        return float((swap._remove_lip_glints(rgb, face.landmarks, True) != rgb).any(axis=2)[lips].mean())

    # Gloss on closed lips is whitish, and a streak of it shrunk onto a crowd face is the white line.
    assert painted("mark_zuckerberg", "img14.jpg") > 0.03
    # A large, sharp, bare mouth has lighter lines and a sheen of its own colour: painting them over (59-98% of these
    # lips when lighter was enough; under 1% now) left flat blotches on the mouths of large faces.
    for person, photo in (("matt_damon", "img32.jpg"), ("jennifer_aniston", "img3.jpg"), ("jeff_bezos", "img21.jpg")):
        assert painted(person, photo) < 0.03, (person, photo)


def test_a_mouth_read_just_below_open_keeps_the_friends_teeth(crowd_faces, friend_faces) -> None:
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    laughing = max(crowd, key=lambda face: traits.expression_of(face).mouth_open)
    # As the mesh's points read many smiles showing teeth on 60-70 px faces: just below expression.MOUTH_OPEN.
    read = traits.expression_of(laughing).as_quality()
    quality_ = {**laughing.quality, **read, "expr_mouth_open": expression.MOUTH_OPEN - 0.01}
    target = dataclasses.replace(laughing, quality=quality_)
    source_rgb, source = _source(friend_faces, "mark_zuckerberg", "img58.jpg")  # laughing, teeth showing
    assert traits.expression_of(source).mouth_is_open
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    mouth = _polygon(rgb.shape, target.landmarks[60:68])
    before = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[..., 0][mouth].astype(float)
    after = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[..., 0][mouth].astype(float)
    # Teeth stay in the mouth: closing the friend's lips there painted them over with lip, a dark smear where the
    # target shows teeth (measured: brightest tenth 197 before, 159 closed, 197 now).
    assert np.percentile(after, 90) >= np.percentile(before, 90) - 25


def test_a_laughing_friends_teeth_stay_white(crowd_faces, friend_faces) -> None:
    rgb, target = _target(crowd_faces, "stadium.jpg", 735)  # a laughing woman, 39 px
    source_rgb, source = _source(friend_faces, "scarlett_johansson", "img50.jpg")  # laughing, red lips
    result = swap.swap_faces(rgb, [(source_rgb, source, target)])
    mouth = _polygon(rgb.shape, target.landmarks[48:60])
    lab = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[mouth].astype(float)
    teeth = lab[lab[:, 0] >= np.percentile(lab[:, 0], 75)]
    # The colour shift that takes a friend's lipstick toward the target's bare lips came through the teeth and made
    # them cyan (a* 118 in 8-bit Lab, 128 is neutral; 126.5 now).
    assert np.median(teeth[:, 1]) >= 123


def test_a_small_face_takes_the_strangers_colour_not_the_friends_blush(crowd_faces, friend_faces) -> None:
    # A violet blotch on the friend's cheek (blush, a coloured light) was carried onto a stranger's cheek at crowd
    # size and caught in the blind test; so were grey and pink casts. Under swap.TARGET_LOW_FULL_PX a face keeps the
    # friend's detail and takes the stranger's own colour.
    rgb, crowd = crowd_faces["stadium.jpg"]
    target = min(
        (face for face in crowd if faces.can_host(face.quality)), key=lambda face: abs(face.quality["size"] - 36)
    )
    assert target.quality["size"] < swap.TARGET_LOW_FULL_PX
    source_rgb, source = _source(friend_faces, "matt_damon", "img33.jpg")
    blushed = source_rgb.copy()
    cheek = source.landmarks[[2, 3, 31, 40]].mean(axis=0)
    radius = int(np.ptp(source.landmarks[:68, 0]) * 0.12)
    spot = np.zeros(source_rgb.shape[:2], dtype=np.uint8)
    cv2.circle(spot, tuple(int(v) for v in cheek), radius, 255, -1)
    blend = cv2.GaussianBlur(spot, (0, 0), radius * 0.3).astype(np.float32)[..., None] / 255.0
    blushed = (blushed * (1 - 0.85 * blend) + np.array([200, 90, 240], np.float32) * 0.85 * blend).astype(np.uint8)
    result = swap.swap_faces(rgb, [(blushed, source, target)])
    # The target's cheek on that side, and its face as a whole, keep their colour within a few Lab units.
    where = target.landmarks[[2, 3, 31, 40]].mean(axis=0)
    x, y = (int(v) for v in where)
    r = max(2, int(target.quality["size"] * 0.1))
    before = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB)[y - r : y + r, x - r : x + r, 1:].reshape(-1, 2).astype(float)
    after = cv2.cvtColor(result, cv2.COLOR_RGB2LAB)[y - r : y + r, x - r : x + r, 1:].reshape(-1, 2).astype(float)
    # Measured: 3.5 Lab units (8-bit) now, 8.3 with the friend's low frequencies kept.
    assert np.abs(after.mean(axis=0) - before.mean(axis=0)).max() < 5.5, (before.mean(axis=0), after.mean(axis=0))


def test_a_lipstick_shift_moves_the_lips_not_the_skin_the_outline_took_in() -> None:
    # The warped lip outline of a smiling friend also takes in skin above the mouth; the shift that takes a lipstick
    # toward the stranger's bare lips made that skin grey (a "moustache" the blind viewers caught on large faces).
    skin_rgb, lipstick_rgb, bare_lips_rgb = (205, 160, 140), (200, 40, 60), (190, 120, 115)
    friend = np.full((120, 120, 3), skin_rgb, np.float32)
    target = np.full((120, 120, 3), skin_rgb, np.uint8)
    outline = np.zeros((120, 120), bool)
    outline[60:80, 35:85] = True  # the friend's lip outline: skin in its upper part, lipstick below
    friend[70:80, 35:85] = lipstick_rgb
    target_lips = np.zeros((120, 120), bool)
    target_lips[70:80, 35:85] = True
    target[target_lips] = bare_lips_rgb
    skin = ~outline & ~target_lips
    result = colour.match_colour(friend, target, skin, 100.0, features=[(outline, target_lips, colour.LIPS)])
    lab_before, lab_after = masks.to_lab(friend), masks.to_lab(result)
    # The skin inside the outline keeps its colour; the lipstick moves toward the bare lips.
    assert np.abs(lab_after[62:67, 40:80] - lab_before[62:67, 40:80]).max() < 1.5
    assert lab_after[72:78, 40:80, 1].mean() < lab_before[72:78, 40:80, 1].mean() - 10


def _teeth_after(friend_skin_lab, friend_teeth_lab, target_skin_lab) -> tuple[np.ndarray, np.ndarray]:
    """Return the friend's teeth Lab before and after match_colour onto a plain target skin."""
    friend_lab = np.full((120, 120, 3), friend_skin_lab, np.float32)
    mouth = np.zeros((120, 120), bool)
    mouth[70:80, 40:80] = True
    friend_lab[mouth] = (30, 15, 10)  # the mouth's dark inside
    friend_lab[72:78, 44:76] = friend_teeth_lab  # and its lighter half, the teeth
    friend = masks.from_lab(friend_lab)
    target = np.clip(masks.from_lab(np.full((120, 120, 3), target_skin_lab, np.float32)) + 0.5, 0, 255)
    result = colour.match_colour(friend, target.astype(np.uint8), ~mouth, 100.0, keep_colour=mouth.astype(np.float32))
    return masks.to_lab(friend)[74:77, 50:70].mean(axis=(0, 1)), masks.to_lab(result)[74:77, 50:70].mean(axis=(0, 1))


def test_a_cool_lit_friends_teeth_take_the_warm_crowds_light() -> None:
    # A cool-lit photo's teeth (b* -12, its skin -8) kept their colour on a warm stranger (skin b* 20): "glowing
    # lavender-white blobs", named in every look of two blind sets. They move with the skin now.
    before, after = _teeth_after((60, 15, -8), (85, 5, -12), (60, 15, 20))
    assert before[2] < -10 and after[2] > 10


def test_a_warm_friends_teeth_keep_their_colour_on_a_paler_stranger() -> None:
    # An orange-skinned friend photo's teeth, moved with the skin onto a paler stranger, turned teal; moving ordinary
    # teeth with the skin made them "yellow-orange, blotchy" on warmer strangers (paired test). Both keep their colour.
    for target_skin in ((60, 8, 12), (60, 25, 35)):
        before, after = _teeth_after((60, 20, 30), (85, 3, 15), target_skin)
        assert np.abs(after[1:] - before[1:]).max() < 1.5


def test_both_eyes_stand_out_alike_from_the_skin_around_them() -> None:
    # A friend photo lit from one side: the shaded eye is about as light as its shaded lids. Shifted with the skin
    # around it, a pale friend's grey eyes on a tanned stranger came out one dark brown and one grey-green (blind test).
    friend_lab = np.zeros((120, 160, 3), np.float32)
    friend_lab[..., 0], friend_lab[..., 1], friend_lab[..., 2] = 80.0, 12.0, 16.0
    friend_lab[:, 80:, 0] = 55.0  # the image-right half in shadow
    lit, shaded = np.zeros((120, 160), bool), np.zeros((120, 160), bool)
    lit[50:60, 36:64], shaded[50:60, 96:124] = True, True
    eyes = lit | shaded
    irises = np.zeros_like(eyes)
    irises[50:60, 45:55], irises[50:60, 105:115] = True, True
    friend_lab[lit, 0], friend_lab[shaded, 0] = 88.0, 62.0  # the whites
    friend_lab[irises & lit, 0], friend_lab[irises & shaded, 0] = 55.0, 52.0  # grey irises
    target_lab = np.zeros_like(friend_lab)
    target_lab[..., 0], target_lab[..., 1], target_lab[..., 2] = 55.0, 15.0, 22.0
    target_lab[eyes, 0], target_lab[irises, 0] = 75.0, 30.0
    friend, target = (masks.from_lab(lab) for lab in (friend_lab, target_lab))
    skin = ~cv2.dilate(eyes.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    result = masks.to_lab(colour.match_colour(friend, target, skin, 120.0, features=[(eyes, eyes, colour.EYES)]))

    def contrast(eye: np.ndarray) -> float:
        ring = cv2.dilate(eye.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) & ~eyes
        iris = float(np.median(result[..., 0][eye & irises]))
        return (iris + 16.0) / (float(np.median(result[..., 0][ring])) + 16.0)

    assert abs(contrast(lit) - contrast(shaded)) < 0.05, (contrast(lit), contrast(shaded))
    # Each eye keeps the light around it (the shaded side stays the darker), and the whites stay as they were.
    assert np.median(result[..., 0][shaded & irises]) < np.median(result[..., 0][lit & irises]) + 1.0
    plain = masks.to_lab(colour.match_colour(friend, target, skin, 120.0))
    whites = eyes & ~cv2.dilate(irises.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    assert np.median(np.abs(result[..., 0][whites] - plain[..., 0][whites])) < 0.5


def _mouth_region_change(rgb, result, target) -> tuple[float, float, float]:
    """Return how much the lips changed, how much darker the skin above them got, and its mean change (L*)."""
    lips = _polygon(rgb.shape, target.landmarks[48:60])
    upper_lip = _polygon(rgb.shape, target.landmarks[traits.LOWER_FACE[1]]) & ~lips
    before, after = (masks.to_lab(image)[..., 0] for image in (rgb, result))
    darker = before[upper_lip] - after[upper_lip]
    return float(np.abs(after[lips] - before[lips]).mean()), float(darker.mean()), float(np.abs(darker).mean())


def _stadium_men(crowd_faces) -> tuple[np.ndarray, list[faces.Face]]:
    rgb, crowd = crowd_faces["stadium.jpg"]
    men = [face for face in crowd if faces.can_host(face.quality) and fit.target_look(face)["masculine"] > 0.5]
    assert len(men) >= 8 and max(face.quality["size"] for face in men) < swap.LOWER_FACE_FROM_PX
    return rgb, men


@pytest.mark.parametrize("left", [345, 1292])
def test_a_bearded_friend_leaves_no_moustache_on_a_shaven_face(crowd_faces, friend_faces, left) -> None:
    # jack_dorsey's moustache, pasted with the mouth region, sat on shaven strangers above their own bare chin: the
    # blind viewers caught it on large faces. The target keeps its own skin around the mouth, the friend's lips stay.
    rgb, target = _target(crowd_faces, "couple.jpg", left)
    assert target.quality["size"] >= swap.LOWER_FACE_FULL_PX and traits.describe(rgb, target)["beard"] < 0.3
    source_rgb, source = _source(friend_faces, "jack_dorsey", "img62.jpg")
    lips, _, upper_lip = _mouth_region_change(rgb, swap.swap_faces(rgb, [(source_rgb, source, target)]), target)
    assert lips > 2  # the lips were swapped
    # Measured: 3.4-3.8 L* now, 8.5-11.3 with the friend's mouth region pasted whole.
    assert upper_lip < 6


def test_a_shaven_friend_keeps_the_mouth_region_on_small_faces_only(crowd_faces, friend_faces, monkeypatch) -> None:
    # The target's own lower face costs likeness on small faces, so a friend photo without a beard keeps its mouth
    # region under swap.LOWER_FACE_FROM_PX and gives it up from swap.LOWER_FACE_FULL_PX.
    source_rgb, source = _source(friend_faces, "george_clooney", "img38.jpg")
    assert source.quality["beard"] < swap.BEARDED_SOURCE
    stadium, men = _stadium_men(crowd_faces)
    couple, large = _target(crowd_faces, "couple.jpg", 345)
    cases = [(stadium, target) for target in men[:4]] + [(couple, large)]

    def changes() -> list[float]:
        return [_mouth_region_change(rgb, swap.swap_faces(rgb, [(source_rgb, source, t)]), t)[2] for rgb, t in cases]

    kept = changes()
    monkeypatch.setattr(swap, "LOWER_FACE_FROM_PX", 1e6)
    monkeypatch.setattr(swap, "LOWER_FACE_FULL_PX", 2e6)
    whole = changes()
    assert np.allclose(kept[:4], whole[:4], atol=0.05), (kept, whole)
    # Measured on the couple's man: 3.8 L* kept, 5.7 with the friend's mouth region whole.
    assert kept[4] < 0.8 * whole[4], (kept, whole)


def test_a_bearded_friend_leaves_no_moustache_on_crowd_size_faces(crowd_faces, friend_faces) -> None:
    # Under swap.LOWER_FACE_FROM_PX the mouth region is much of who a friend is, but a bearded friend's photo keeps
    # the target's own skin there at every size: jack_dorsey's beard was a grey jaw on a 33 px stadium.jpg face in
    # every crowd-size blind set, his moustache stuck on 42 px faces.
    rgb, men = _stadium_men(crowd_faces)
    source_rgb, source = _source(friend_faces, "jack_dorsey", "img62.jpg")
    assert source.quality["beard"] >= swap.BEARDED_SOURCE
    darker = [_mouth_region_change(rgb, swap.swap_faces(rgb, [(source_rgb, source, t)]), t)[1] for t in men]
    # Measured over the stadium's 10 men: 1.3 L* darker on average when written, 3.4 with the friend's mouth region
    # whole; since the local contrast (11-30) 2.45, and 4.6 whole (BEARDED_SOURCE out of reach, 12-01).
    assert np.mean(darker) < 3.5, darker


@pytest.mark.parametrize("person,photo", [("jack_dorsey", "img62.jpg"), ("jennifer_aniston", "img54.jpg")])
def test_a_friends_closed_lips_leave_a_kept_open_mouth_its_own_lips(
    crowd_faces, friend_faces, monkeypatch, person, photo
) -> None:
    # A friend's closed lips stretched open around a stranger's kept open mouth came out smeared: with white specks
    # from a bearded friend (jack_dorsey/img62.jpg on linzaer's 10.jpg, 51 px), lumpy and doubled from a shaven one
    # (jennifer_aniston/img54.jpg on linzaer's 17.jpg, 129 px). From swap.LOWER_FACE_FROM_PX such a mouth keeps its
    # lips too. The selfie's 84 px smile is open.
    rgb, crowd = crowd_faces["selfie-many-people.jpg"]
    hiding.annotate_missing(rgb, crowd)
    target = crowd[3]
    assert traits.expression_of(target).mouth_is_open and target.quality["size"] >= swap.LOWER_FACE_FROM_PX
    points = np.asarray(target.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    lips = _polygon(rgb.shape, points[48:60]) & ~_polygon(rgb.shape, points[60:68])
    source_rgb, source = _source(friend_faces, person, photo)
    assert not traits.expression_of(source).mouth_is_open
    assert (source.quality["beard"] >= swap.BEARDED_SOURCE) == (person == "jack_dorsey")

    def lips_change() -> float:
        result = swap.swap_faces(rgb, [(source_rgb, source, target)])
        return float(np.abs(result.astype(np.float32) - rgb.astype(np.float32))[lips].mean())

    # Measured: 0.0 levels on the lips for both; 52 (jack_dorsey) and 38 (jennifer_aniston) with the friend's lips
    # (the rule held off on this size).
    assert lips_change() < 2.0
    monkeypatch.setattr(swap, "LOWER_FACE_FROM_PX", 1000.0)
    assert lips_change() > 20.0


def _eyes(friend_iris, target_eye, target_line=None):
    """Return a friend and a target face with one synthetic eye (white, iris), the eye, its iris and the skin."""
    skin_rgb, white_rgb = (205, 155, 135), (225, 225, 220)
    friend = np.full((100, 100, 3), skin_rgb, np.float32)
    target = np.full((100, 100, 3), skin_rgb, np.uint8)
    eye = np.zeros((100, 100), bool)
    eye[45:55, 30:70] = True
    iris = np.zeros((100, 100), bool)
    iris[45:55, 43:57] = True
    friend[eye] = white_rgb
    friend[iris] = friend_iris
    target[eye] = white_rgb if target_line is None else target_eye
    if target_line is None:
        target[iris] = target_eye
    else:
        target[49:51, 30:70] = target_line
    skin = ~cv2.dilate(eye.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    return friend, target, eye, iris, skin


def _iris_colours(friend, target, eye, skin):
    """Return the friend's face matched with the eye, and matched without (skin only), in Lab."""
    result = masks.to_lab(colour.match_colour(friend, target, skin, 100.0, features=[(eye, eye, colour.EYES)]))
    return result, masks.to_lab(colour.match_colour(friend, target, skin, 100.0))


def test_a_friends_light_irises_take_the_targets_darker_ones() -> None:
    # Light blue irises pasted into a stranger's dark eyes glowed ("ghostly light eyes", blind test): a friend's
    # irises take the target's iris colour and most of its darkness against the skin.
    friend, target, eye, iris, skin = _eyes((120, 160, 200), (70, 45, 30))
    result, skin_only = _iris_colours(friend, target, eye, skin)
    wanted, before = masks.to_lab(target.astype(np.float32)), masks.to_lab(friend)
    centre = np.zeros_like(iris)
    centre[48:52, 46:54] = True
    # Iris: 43 L* lighter and 38 b* bluer than the target's; then the target's colour, and 20 L* darker (the most
    # an iris moves: colour.IRIS_MAX_SHIFT).
    off_before = np.abs(before[centre] - wanted[centre]).mean(axis=0)
    off_after = np.abs(result[centre] - wanted[centre]).mean(axis=0)
    assert off_before[0] > 35 and off_before[2] > 30
    assert off_after[1:].max() < 5 and off_after[0] < off_before[0] - 15
    # The whites are left as the skin's colour match leaves them.
    whites = eye & ~cv2.dilate(iris.astype(np.uint8), np.ones((13, 13), np.uint8)).astype(bool)
    assert np.abs(result[whites] - skin_only[whites]).mean() < 1


@pytest.mark.parametrize("line", [(185, 125, 110), (60, 45, 50)], ids=["crease", "lashes"])
def test_a_closed_target_eye_gives_a_friends_irises_a_dark_brown_not_its_lid(line) -> None:
    # A squinting or closed target eye is lid and lashes: taken for an iris, it gave a friend red eyes, and it left
    # a friend's blue eyes glowing in a face whose own eyes are shut. A dark brown iris stands in. The lid is a little
    # lighter than the skin, with a faint crease or a line of dark lashes (dark enough to pass for an iris: the eye as
    # a whole is what tells it is shut).
    friend, target, eye, iris, skin = _eyes((90, 110, 130), (212, 158, 140), target_line=line)
    result, skin_only = _iris_colours(friend, target, eye, skin)
    centre = np.zeros_like(iris)
    centre[48:52, 46:54] = True
    moved = (result[centre] - skin_only[centre]).mean(axis=0)
    # Measured: 9 L* darker, b* 11 yellower (blue-grey to brown), a* unchanged; toward the lid it was lighter and
    # redder.
    assert moved[0] < -5 and moved[2] > 5 and abs(moved[1]) < 2, moved


def test_a_tiny_target_eye_gives_a_friends_irises_a_dark_brown() -> None:
    # A target eye of a few pixels cannot be read: the same dark brown stands in (it was left out, blue and all).
    friend, target, eye, iris, skin = _eyes((90, 110, 130), (70, 45, 30))
    tiny = np.zeros_like(eye)
    tiny[49:51, 49:51] = True
    result = masks.to_lab(colour.match_colour(friend, target, skin, 100.0, features=[(eye, tiny, colour.EYES)]))
    skin_only = masks.to_lab(colour.match_colour(friend, target, skin, 100.0))
    centre = np.zeros_like(iris)
    centre[48:52, 46:54] = True
    moved = (result[centre] - skin_only[centre]).mean(axis=0)
    assert moved[0] < -5 and moved[2] > 5, moved


def test_a_friends_blue_eyes_stay_blue_in_the_same_eyes_blurred() -> None:
    # A small target's eyes are blurred: their darkest part, taken for the iris, is mostly lashes and lid line, and
    # the friend's blue irises were moved toward its colour. On their own face shrunk (self-swap) a friend's blue eyes
    # came out brown-grey slits. Eyes as blue as the friend's keep their colour; brown ones still give theirs (above).

    friend, _, eye, iris, skin = _eyes((95, 125, 165), (95, 125, 165))
    friend[43:46, 30:70] = (60, 45, 40)  # the upper lash line, dark brown
    eye[43:46, 30:70] = True
    target = np.clip(cv2.GaussianBlur(friend, (0, 0), 2.0), 0, 255).astype(np.uint8)
    result, skin_only = _iris_colours(friend, target, eye, skin)
    centre = np.zeros_like(iris)
    centre[48:53, 46:54] = True
    # Measured: b* within 0.1 (before: 14 yellower, the blue gone grey). Its lightness is another matter: the lash
    # line makes the blurred eye read darker, and the iris darkens with it (as before).
    assert abs(float((result[centre] - skin_only[centre]).mean(axis=0)[2])) < 1.0
    brown = target.copy()
    brown[iris] = (70, 45, 30)
    brown = np.clip(cv2.GaussianBlur(brown, (0, 0), 2.0), 0, 255).astype(np.uint8)
    result, skin_only = _iris_colours(friend, brown, eye, skin)
    # Measured: 14 yellower, the way to the brown.
    assert float((result[centre] - skin_only[centre]).mean(axis=0)[2]) > 10.0


def _blueness(rgb: np.ndarray, face: faces.Face) -> float:
    """Return how blue ``face``'s eyes are: the mean of what their b* lies below the skin's, less 8 (colour.IRIS_BLUE)."""
    points = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    lab = masks.to_lab(rgb)
    skin_b = float(np.median(lab[..., 2][masks.skin_sample_mask(rgb.shape[:2], points) > 0]))
    eyes = masks.features_mask(rgb.shape[:2], points, 0, masks.EYES) > 0
    return float(np.maximum(skin_b - 8.0 - lab[..., 2][eyes], 0.0).mean())


@pytest.mark.parametrize("size", [45, 64])
def test_a_friend_swapped_onto_their_own_photo_shrunk_keeps_their_blue_eyes(friend_faces, size) -> None:
    # The swap of a face onto itself should change nothing: matt_damon/img30.jpg's blue eyes came out grey at 45-90
    # px (blueness 0.85 of 2.19 at 45 px, 1.44 of 2.96 at 64), narrowed dark slits that viewers read as a squint.
    rgb, face = _source(friend_faces, "matt_damon", "img30.jpg")
    scale = size / face.box[2]
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    target = max(faces.detect_faces(small, min_face_px=faces.HOST_MIN_SIZE_PX), key=lambda found: found.box[2])
    hiding.annotate_missing(small, [target])
    result = swap.swap_faces(small, [(rgb, face, target)])
    assert _blueness(result, target) >= 0.85 * _blueness(small, target)
