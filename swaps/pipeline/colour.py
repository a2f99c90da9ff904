"""Give a warped friend's face the target's colour: skin tone and spread in Lab, shading, and the target's lip colour."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from . import masks

# Low-frequency light: the friend's face takes the target's shading, compared over the target's skin and both faces'
# features and blurred with a kernel this fraction of the face size. At 0.2 over skin alone a top-lit friend photo
# kept black eye sockets on a frontally lit crowd face (matt_damon/img33.jpg); 0.35 with the features takes the
# target's light into them while the cheek colour stays within a few Lab units (tests/pipeline/test_swap.py).
LIGHT_BLUR_FRACTION = 0.35
LIGHT_MAX_SHIFT = 25.0  # in Lab lightness units (0..100): enough for a shadowed cheek, not for a hand in front
CHROMA_MAX_SHIFT = 30.0  # a* and b*: a coloured light or a flush on the friend photo (a purple stage light was 25)
# Spread ratios: lightness may follow a flat-lit or contrasty crowd face within these bounds (up to 1.6 made a
# friend's eye sockets black on a frontally lit face: the shading is the light transfer's job). Colour spread is
# never widened: scaling a* and b* up turned lipstick into neon pink (issue 11: "over-saturated pink").
L_SPREAD = (0.75, 1.25)
CHROMA_SPREAD = (0.6, 1.0)
# Weights (L*, a*, b*) with which a feature takes the target's own colour relative to the skin: the lips their colour
# and most of their lightness offset (no neon lipstick on a bare face, no pale glossy lip as a white line on a dark
# mouth). EYES only marks the eyes, which are matched by their irises instead (_match_irises).
LIPS = (0.8, 1.0, 1.0)
EYES = (0.0, 0.0, 0.0)
# The swapped face's darkest and lightest pixels are brought to the target's own: its TONE_TAIL and 100 - TONE_TAIL
# lightness percentiles over the pasted face. A friend's tail beyond them is compressed onto them, from its TONE_KNEE
# percentile out. The friend's dark features, raised to the target's contrast and sharpened, came out blacker than
# anything in the stranger's face (stadium.jpg, a 38 px face: its darkest 1% 14.9 L* under the stranger's, black
# nostrils and a black line for a mouth; katy_perry's lightest 1% was 4.8 L* over a 37 px face's). The tail keeps at
# least TONE_MIN_SQUEEZE of its spread, so it is never pressed onto one level; a friend's tail that starts beyond the
# target's (its TONE_KNEE percentile already past the target's tail) is only compressed that far and stays beyond.
# Blind, each set judged twice with and twice without (same swaps): five crowd-size sets (seeds 88 and 90-93) 59.9% of
# 232 crops against 66.8%, three large-face sets (seeds 70-72) 61.7% of 120 against 67.5%.
TONE_TAIL = 1.0
TONE_KNEE = 10.0
TONE_MIN_SQUEEZE = 0.3
# The largest shift (Lab units) a feature's colour takes.
MAX_FEATURE_SHIFT = {LIPS: 30.0}
# A friend's irises take this share of the difference in darkness against the skin, at most IRIS_MAX_SHIFT (Lab
# units), and their blue pixels (b* more than IRIS_BLUE under the skin's, fully from 6 more) this share of the target
# irises' a* and, only ever upward, b*. Light blue irises in a stranger's dark eyes glowed ("ghostly light eyes",
# blind test); the whole eye's colour, whites and lids included, moved by at most 5 and left them blue. Brown irises
# keep their colour: a target's small eye reads yellower than its iris is, and moved toward it, a friend's brown eyes
# turned olive. Unlike the lips, irises are not trusted less on small faces (feature_trust): they only darken and
# never turn redder than IRIS_MAX_REDNESS, so a small eye's noise cannot paint the red band that trust guarded
# against; the bench's recognisable sizes are unchanged at 24-36 px.
IRIS_LIGHTNESS = 0.7
IRIS_CHROMA = 0.9
IRIS_MAX_SHIFT = 20.0
IRIS_BLUE = 8.0
# Eyes whose mean b* (lids included) against the skin differs by less than this are alike in colour: it is the
# measure's own scatter on one face shrunk (0.2-0.4).
EYE_BLUE_TOLERANCE = 0.5
# The iris is the eye but its lightest part: this share of the range of its lightness from the darkest (a light blue
# iris reaches further toward the whites).
IRIS_SPAN = 0.6
BLUE_IRIS_SPAN = 0.85
# A dark brown iris against the skin (L* offset, a*, b*): what stands in for a target's iris that cannot be read.
IRIS_DEFAULT = (-35.0, 6.0, 12.0)
# A target eye whose iris (see IRIS_SPAN) is not this much darker (L*) than its skin shows none (squinting, closed,
# a few pixels): a dark brown stands in, fully 10 units further. Irises are brown to blue-grey: a target "iris"
# redder (a*) than IRIS_MAX_REDNESS is lid, and a full shift toward it gave a squinting old man's friend red eyes.
IRIS_MIN_CONTRAST = 10.0
IRIS_MAX_REDNESS = 6.0
# Both irises stand out alike from the skin around them (_even_eyes), a ring this fraction of the eye's size (the root
# of its area) wide: the lids and the skin under the eye. An eye moves by at most EYE_EVEN_MAX_SHIFT (L*) for it.
EYE_RING_FRACTION = 0.4
EYE_EVEN_MAX_SHIFT = 12.0
# A friend's teeth keep their own colour (moved with the skin, an orange-skinned friend photo's teeth turned teal on a
# paler stranger), unless they are bluer than this (b*, the median of the lighter half of the mouth's opening): then
# the photo's light was cool, and they move with the skin's a* and b* like the rest of the face, but not past neutral
# (0) where they were not already beyond it. A cool-lit friend photo's teeth were "glowing lavender-white blobs" in
# warm crowds, named in every look of two blind sets; in a paired test of the swaps it changed (three, two fresh
# viewers), moved with the skin they were preferred in 6 of 6 looks. Moving every friend's teeth with the skin was
# preferred 10:7 and 10:7 only: ordinary teeth on a warmer stranger came out "yellow-orange, blotchy".
TEETH_COOL_B = 0.0
# A friend's lip redness over the skin is scaled to the target's, within these factors: bare lips still show some
# colour, and a lipstick is never made redder than the friend's own lips.
LIP_REDNESS_RATIO = (0.25, 1.0)


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def match_colour(
    warped: np.ndarray,
    target: np.ndarray,
    skin: np.ndarray,
    face_size: float,
    shading: float = 1.0,
    features: Sequence[tuple[np.ndarray, np.ndarray, tuple[float, float, float]]] = (),
    light_region: np.ndarray | None = None,
    feature_trust: float = 1.0,
    keep_colour: np.ndarray | None = None,
) -> np.ndarray:
    """Return ``warped`` with the target's skin tone over ``skin``, ``shading`` of its light and its feature colours.

    ``features`` are (friend's region in ``warped``, target's region in ``target``, Lab weights) triples;
    ``light_region`` is where the light is compared (default ``skin``); ``feature_trust`` (0..1) scales how far a
    feature may shift (the lips of a 36 px face are a dozen pixels, their colour mostly the dark line between them);
    ``keep_colour`` (0..1) is where the friend's pixels keep their a* and b* (the teeth: no shift with the skin,
    unless they are cool, TEETH_COOL_B).
    """
    if skin.sum() < 10:
        return np.clip(warped, 0, 255).astype(np.float32)
    src_lab = masks.to_lab(warped)
    dst_lab = masks.to_lab(target)
    # The friend's own b*, before the skin's spread scales it toward the target's (the eyes' blue is compared in it).
    own_b = src_lab[..., 2].copy()
    cool_teeth = keep_colour is not None and _teeth_are_cool(src_lab, keep_colour)
    for channel in range(3):
        src_values = src_lab[..., channel][skin]
        dst_values = dst_lab[..., channel][skin]
        low, high = L_SPREAD if channel == 0 else CHROMA_SPREAD
        ratio = float(np.clip(float(dst_values.std()) / (float(src_values.std()) or 1.0), low, high))
        moved = (src_lab[..., channel] - float(src_values.mean())) * ratio + float(dst_values.mean())
        if channel > 0 and keep_colour is not None:
            # Teeth are white whatever the skin: moving them with it by an orange-skinned friend photo's offset
            # turned them teal on a paler target.
            teeth = src_lab[..., channel]
            if cool_teeth:
                moved_with_skin = teeth + (float(dst_values.mean()) - float(src_values.mean()))
                teeth = np.maximum(moved_with_skin, np.minimum(teeth, 0.0))
            moved = moved * (1.0 - keep_colour) + teeth * keep_colour
        src_lab[..., channel] = moved
    for friend_region, target_region, weights in features:
        if weights is EYES:
            # A target eye of a few pixels is one that cannot be read: a dark brown stands in (see _match_irises).
            _match_irises(src_lab, dst_lab, skin, friend_region, target_region, own_b)
        else:
            _match_feature(src_lab, dst_lab, skin, friend_region, target_region, weights, feature_trust, keep_colour)
    # One mean per face cannot give a turned head its lit and its shadowed side: add the difference of the two
    # faces' skin lightness, blurred so it carries the light and not the stranger's features.
    # The friend's shadowed side is no skin to the friend's own skin model, so the light is compared wherever the
    # target shows skin, or a side-lit friend photo kept its dark half.
    weight = (skin if light_region is None else light_region).astype(np.float32)
    kernel = (_odd(face_size * LIGHT_BLUR_FRACTION),) * 2
    coverage = cv2.GaussianBlur(weight, kernel, 0)
    # Far from any shared skin (eyes on a small face, the mask's rim) the estimate fades out rather than guesses.
    fade = np.clip(coverage / 0.3, 0.0, 1.0) * shading
    # The same for the colour: a friend's red eyelids, flushed cheeks or a coloured stage light are the friend's
    # photo, not the friend. The colour is compared over skin only: lips and eyes have their own shift above, and a
    # friend's lipstick counted here spread a cyan halo around the mouth.
    skin_weight = weight.copy()
    for friend_region, target_region, _ in features:
        skin_weight[friend_region | target_region] = 0.0
    skin_coverage = cv2.GaussianBlur(skin_weight, kernel, 0)
    skin_fade = np.clip(skin_coverage / 0.3, 0.0, 1.0) * shading
    for channel, limit in ((0, LIGHT_MAX_SHIFT), (1, CHROMA_MAX_SHIFT), (2, CHROMA_MAX_SHIFT)):
        where, near, faded = (weight, coverage, fade) if channel == 0 else (skin_weight, skin_coverage, skin_fade)
        difference = (dst_lab[..., channel] - src_lab[..., channel]) * where
        shift = cv2.GaussianBlur(difference, kernel, 0) / np.maximum(near, 1e-3) * faded
        if channel > 0 and keep_colour is not None:
            shift = shift * (1.0 - keep_colour)
        src_lab[..., channel] += np.clip(shift, -limit, limit)
    for friend_region, _, weights in features:
        if weights is EYES:
            _even_eyes(src_lab, friend_region)
    src_lab[..., 0] = np.clip(src_lab[..., 0], 0.0, 100.0)
    return masks.from_lab(src_lab)


def _teeth_are_cool(lab: np.ndarray, mouth: np.ndarray) -> bool:
    """Return whether the teeth in ``mouth`` (0..1, the friend's opening) are bluer than TEETH_COOL_B."""
    opening = np.asarray(mouth) > 0.5
    if opening.sum() < 6:
        return False
    lighter = opening & (lab[..., 0] > float(np.median(lab[..., 0][opening])))
    return lighter.sum() >= 3 and float(np.median(lab[..., 2][lighter])) < TEETH_COOL_B


def _even_eyes(lab: np.ndarray, eyes: np.ndarray) -> None:
    """Make both irises (in place) stand out alike from the skin just around each: one ratio of lightness to it.

    A friend photo lit from one side leaves the shaded eye about as light as its shaded lids, and the light
    transfer shifts an eye with the skin around it: a pale friend's grey eyes on a tanned stranger came out one
    dark brown (L* 17 in lids of 33) and one grey-green (34 in lids of 34; blind test: "the eyes are different
    colours"). The lids keep the light; each eye moves, by at most EYE_EVEN_MAX_SHIFT, to their common contrast.
    """
    count, labels = cv2.connectedComponents(eyes.astype(np.uint8))
    if count != 3:
        return
    ratios, regions = [], []
    for label in (1, 2):
        eye = labels == label
        ring = (cv2.dilate(eye.astype(np.uint8), masks.disc(np.sqrt(eye.sum()) * EYE_RING_FRACTION)) > 0) & ~eyes
        # The iris and lashes, not the whites: lifted with a dark eye, the whites glared.
        iris = _iris(lab, eye)
        if eye.sum() < 6 or ring.sum() < 6 or iris.sum() < 3:
            return
        # Light scales (L* + 16), about the cube root of luminance, rather than shifting it.
        inner, around = (float(np.median(lab[..., 0][where])) + 16.0 for where in (iris, ring))
        ratios.append((inner / max(around, 1.0), around))
        regions.append((iris, eye))
    common = float(np.sqrt(max(ratios[0][0] * ratios[1][0], 1e-6)))
    for (iris, eye), (ratio, around) in zip(regions, ratios, strict=True):
        move = float(np.clip((common - ratio) * around, -EYE_EVEN_MAX_SHIFT, EYE_EVEN_MAX_SHIFT))
        lab[..., 0] += _feathered(iris, eye) * move


def _match_feature(
    src_lab: np.ndarray,
    dst_lab: np.ndarray,
    skin: np.ndarray,
    src_region: np.ndarray,
    dst_region: np.ndarray,
    weights: tuple[float, float, float],
    trust: float = 1.0,
    keep_colour: np.ndarray | None = None,
) -> None:
    """Shift a friend's feature (in place) toward the target's colour of it relative to the skin, soft at the edges."""
    if src_region.sum() < 6 or dst_region.sum() < 6:
        return
    src_skin = np.median(src_lab[skin], axis=0)
    dst_skin = np.median(dst_lab[skin], axis=0)
    src_offset = np.median(src_lab[src_region], axis=0) - src_skin
    dst_offset = np.median(dst_lab[dst_region], axis=0) - dst_skin
    limit = MAX_FEATURE_SHIFT.get(weights, 10.0) * trust
    shift = np.clip((dst_offset - src_offset) * np.asarray(weights, dtype=np.float32), -limit, limit)
    size = max(1.0, float(np.sqrt(src_region.sum())) * 0.15)
    soft = cv2.GaussianBlur(src_region.astype(np.float32), (0, 0), size)
    redder = float(src_offset[1])
    if weights == LIPS and redder > 2.0:
        # Only what is as red as the lips moves with them: the warped lip outline also takes in skin above a
        # smiling mouth, and a lipstick's shift toward bare lips turned that skin into a grey moustache.
        soft *= np.clip((src_lab[..., 1] - float(src_skin[1])) / redder, 0.0, 1.0)
        # Redness itself is scaled rather than shifted: each lip pixel keeps its share of the lips' redness over the
        # skin, at the target's level. A shift fell short on the lips' paler half (it moves less there) and left a
        # friend's lipstick half on bare lips (a* 15 over the target's own on group-cc0.jpg).
        ratio = float(np.clip(dst_offset[1] / redder, LIP_REDNESS_RATIO[0], LIP_REDNESS_RATIO[1]))
        reach = np.clip(2.0 * cv2.GaussianBlur(src_region.astype(np.float32), (0, 0), size), 0.0, 1.0)
        if keep_colour is not None:
            reach = reach * (1.0 - keep_colour)
        src_lab[..., 1] = float(src_skin[1]) + (src_lab[..., 1] - float(src_skin[1])) * (1.0 - reach * (1.0 - ratio))
        shift[1] = 0.0
    if keep_colour is None:
        src_lab += soft[..., None] * shift[None, None, :]
        return
    # The lips' shift stops at the teeth: taking a friend's red lipstick toward bare lips turned the teeth teal.
    src_lab[..., 0] += soft * shift[0]
    src_lab[..., 1:] += (soft * (1.0 - keep_colour))[..., None] * shift[None, None, 1:]


def _around_eyes(eyes: np.ndarray) -> np.ndarray:
    """Return ``eyes`` with the lids around them: a mean over it changes little when the face is blurred."""
    grow = float(np.sqrt(eyes.sum() / 2.0)) * EYE_RING_FRACTION
    return cv2.dilate(eyes.astype(np.uint8), masks.disc(grow)) > 0


def _iris(lab: np.ndarray, region: np.ndarray, span: float = IRIS_SPAN) -> np.ndarray:
    """Return the iris of the eyes in ``region``: all but its lightest part (the whites, the lids' highlights)."""
    lightness = lab[..., 0]
    iris = np.zeros_like(region)
    count, labels = cv2.connectedComponents(region.astype(np.uint8))
    # Each eye on its own: one may be lit and the other in shade.
    for label in range(1, count):
        eye = labels == label
        dark, light = np.percentile(lightness[eye], (10, 90))
        iris |= eye & (lightness < dark + span * (light - dark))
    return iris


def _feathered(mask: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Return ``mask`` (0..1) feathered over a tenth of the eyes' size, full inside it again, kept to ``region``."""
    return masks.feather(mask, max(0.5, float(np.sqrt(region.sum())) * 0.1)) * region


def _match_irises(
    src_lab: np.ndarray,
    dst_lab: np.ndarray,
    skin: np.ndarray,
    src_region: np.ndarray,
    dst_region: np.ndarray,
    own_b: np.ndarray,
) -> None:
    """Give the friend's irises (in place) most of the target's iris darkness against the skin, blue ones its colour.

    Where the target's irises cannot be read (closed, squinting, a few pixels), a dark brown iris stands in. The
    whites keep the friend's own (lightened or darkened with the face's light by match_colour). ``own_b`` is the
    friend's b* before its skin's spread was matched: the eyes' blue is compared in it.
    """
    src_iris, dst_iris = _iris(src_lab, src_region), _iris(dst_lab, dst_region)
    if src_iris.sum() < 3:
        return
    src_skin_l = float(np.median(src_lab[..., 0][skin]))
    dst_skin_l = float(np.median(dst_lab[..., 0][skin]))
    wanted = np.array(IRIS_DEFAULT, dtype=np.float32)
    if dst_iris.sum() >= 3:
        value = np.median(dst_lab[dst_iris], axis=0)
        read = np.array([value[0] - dst_skin_l, min(float(value[1]), IRIS_MAX_REDNESS), value[2]], dtype=np.float32)
        readable = float(np.clip((-float(read[0]) - IRIS_MIN_CONTRAST) / 10.0, 0.0, 1.0))
        # A shut eye (masks.EYES_SHUT_DARKNESS) has no iris to read; fully open from 4 L* more.
        shut = masks.eye_darkness(dst_lab[..., 0], dst_region, dst_skin_l)
        readable *= float(np.clip((shut - masks.EYES_SHUT_DARKNESS) / 4.0, 0.0, 1.0))
        wanted = readable * read + (1.0 - readable) * wanted
    soft = _feathered(src_iris, src_region)
    # Only ever darker: a lighter target "iris" is a lid more often than a light iris.
    darkness = float(np.median(src_lab[..., 0][src_iris])) - src_skin_l
    src_lab[..., 0] += soft * float(np.clip(IRIS_LIGHTNESS * (wanted[0] - darkness), -IRIS_MAX_SHIFT, 0.0))
    # Blue pixels of the eyes (the bluer against the skin, the more) take the target's iris colour; brown ones and
    # the whites keep theirs.
    src_skin_b = float(np.median(src_lab[..., 2][skin]))
    not_white = _feathered(_iris(src_lab, src_region, BLUE_IRIS_SPAN), src_region)
    blue = not_white * np.clip((src_skin_b - IRIS_BLUE - src_lab[..., 2]) / 6.0, 0.0, 1.0)
    towards_b = blue * np.maximum(wanted[2] - src_lab[..., 2], 0.0)
    share = IRIS_CHROMA
    if dst_region.sum() >= 6 and float(towards_b[src_region].sum()) > 0.0:
        # Only as far as the target's eyes are less blue than the friend's: the eyes' mean b* against the skin, lids
        # included, which blurring leaves nearly as it is (a shut eye's lids have the skin's). Their "iris" (the
        # darkest part) is mostly lashes and lid line on a small face, and a light blue iris reads as no iris at all,
        # so a friend's blue eyes went brown-grey on a blue-eyed stranger, even on their own face shrunk (swapped
        # onto itself at 45-90 px, matt_damon/img30.jpg kept 0.39-0.54 of its blue; now 0.95-1.0).
        src_around, dst_around = (_around_eyes(region) for region in (src_region, dst_region))
        bluer_by = (float(dst_lab[..., 2][dst_around].mean()) - float(np.median(dst_lab[..., 2][skin]))) - (
            float(own_b[src_around].mean()) - float(np.median(own_b[skin]))
        )
        # The share of the way to the target's iris colour that closes that difference.
        full = blue * np.maximum(wanted[2] - own_b, 0.0)
        reach = max(float(full[src_around].mean()), 1e-6)
        share = float(np.clip((bluer_by - EYE_BLUE_TOLERANCE) / reach, 0.0, IRIS_CHROMA))
    src_lab[..., 1] += blue * share * (wanted[1] - src_lab[..., 1])
    src_lab[..., 2] += share * towards_b


def keep_tonal_range(
    result: np.ndarray, target: np.ndarray, region: np.ndarray, weight: np.ndarray | None = None
) -> np.ndarray:
    """Return ``result`` (float RGB) with its lightness tails within ``region`` (> 0) brought to ``target``'s.

    The tails are measured over ``region``; the change is applied with ``weight`` (0..1, default ``region`` itself),
    so a feathered weight fades it out across the region's edge. Only ever compresses: a tail already within the
    target's is left as it is, the lightness between the TONE_KNEE percentiles is not touched, and a tail that starts
    beyond the target's is compressed by TONE_MIN_SQUEEZE only (see TONE_TAIL).
    """
    result = np.asarray(result, dtype=np.float32)
    inside = np.asarray(region) > 0
    if inside.sum() < 16:
        return result
    lab = masks.to_lab(np.clip(result, 0, 255))
    lightness = lab[..., 0]
    low, knee_low, knee_high, high = np.percentile(
        lightness[inside], [TONE_TAIL, TONE_KNEE, 100.0 - TONE_KNEE, 100.0 - TONE_TAIL]
    )
    wanted_low, wanted_high = np.percentile(masks.to_lab(target)[..., 0][inside], [TONE_TAIL, 100.0 - TONE_TAIL])
    mapped = lightness.copy()
    for knee, tail, wanted in ((knee_low, low, wanted_low), (knee_high, high, wanted_high)):
        # side: -1 for the dark tail, +1 for the light one; the tail is moved only where it lies beyond both.
        side = 1.0 if tail > knee else -1.0
        if (tail - knee) * side > 0 and (tail - wanted) * side > 0:
            squeeze = max(TONE_MIN_SQUEEZE, (wanted - knee) / (tail - knee))
            beyond = (lightness - knee) * side > 0
            mapped[beyond] = knee + (lightness[beyond] - knee) * squeeze
    share = (inside if weight is None else np.asarray(weight)).astype(np.float32)
    changed = (share > 0) & (mapped != lightness)
    if not changed.any():
        return result
    lab[..., 0] = mapped
    moved = result + share[..., None] * (masks.from_lab(lab) - result)
    return np.where(changed[..., None], moved, result)
