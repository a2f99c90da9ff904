"""Put a friend's face onto a crowd face: the friend's features, the target's skin, light, grain, mouth and occluders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np

from . import colour, expression, fit, glasses, masks, occlusion, texture, traits, warp
from .faces import Face, preference

# Erosion and feathering in proportion to face size, so a 40 px face and a 400 px face blend alike.
ERODE_FRACTION = 0.05
FEATHER_FRACTION = 0.08
CORE_FEATHER_FRACTION = 0.15
# Brows, eyes, nose and mouth are kept whatever their colour, grown by this fraction of the face size. Measured on
# group-cc0.jpg: at 0.03 the turned woman's swap (jennifer_aniston/img56.jpg) was nearer the stranger; 0.06 keeps
# enough of the friend around the eyes and mouth.
FEATURE_GROW_FRACTION = 0.06
BROW_GROW_FRACTION = 0.02
# The shared-skin map is smoothed over this fraction of the face size so pores and JPEG blocks leave no holes.
SKIN_SMOOTH_FRACTION = 0.06
# The skin restriction and the light transfer start at faces this large (hull size in px) and are complete this many
# px later. On the ~35 px stadium.jpg faces they cost likeness (sundar_pichai became nearer the stranger, 12/13); a
# friend's fringe is painted out for smaller faces instead (see _paint_out_fringe).
SKIN_MASK_FROM_PX = 60.0
SKIN_MASK_FULL_SPAN_PX = 60.0
# A friend's fringe covering this share of their forehead (_fringe) has the whole forehead painted over, the skin of
# its parting too. Measured: 0.50-0.72 for the fringes of the Caltech friends, 0.45 for matt_damon/img31.jpg's hair
# falling over his brow; at most 0.34 for the hairlines of the shared portraits (jennifer_aniston's side parting).
FRINGE_WHOLE = 0.45
# And a fringe at all only when it covers this share of the forehead's middle, between the brows' inner ends.
FRINGE_MIDDLE = 0.2
# Small faces are warped, coloured and cloned at this size (hull px) and shrunk back at the end: at 35 px a
# triangle of the warp is a pixel or two and the blend smeared the face (issue 11: "grey, soft or smeared").
WORK_FACE_PX = 160.0
# The friend's eyes keep to the lightness range of the target's own eye pixels, measured at the photo's size:
# - no lighter than their 95th percentile by more than WHITES_MARGIN (L*), WHITES_PULL of the excess going. Under a
#   squinting stranger's lids a friend's open eyes put their whites and lower lids, as glowing white crescents
#   ("pasted-on", caught in both looks of jack_dorsey/img62.jpg on linzaer's 10.jpg). In a paired test of the 26 swaps
#   of 37-149 px it changed (rendered both ways, side by side in random order, two fresh viewers), both preferred it
#   26:0 ("no glowing patches").
# - no darker than their 5th percentile. A friend photo, sharper than the crowd's camera, put pupils, lashes and
#   liner as black dots on a soft small face: blind viewers named "dark, smudged", "painted" and "made-up" eyes most.
#   The same six blind sets rendered with the darks clamped (and without the unsharp mask the eyes had on faces
#   under 80 px) were judged 60.9% right, where the earlier render was 66.2% (284 crops each, twelve fresh viewers
#   each; README). Side by side, three viewers of four preferred the darker pupils: which of two renders looks
#   better is not the blind test's question, whether a face stands out among untouched ones.
WHITES_MARGIN = 5.0
WHITES_PULL = 0.7
MAX_SUPERSAMPLE = 5.0
# The source is shrunk to at most this multiple of the (working) target size first.
SOURCE_OVERSAMPLE = 1.5
# Lips this far apart (gap over mouth width) show teeth: closed for a target whose lips are together. Closing lips
# that are already together leaves a pouting blob, so the line sits above most closed mouths: on the same faces as
# expression.MOUTH_OPEN (48 closed mouths of 100 px and more), dlib's points read 8 of them above 0.04, the mesh's
# read closed lips wider apart (22 above 0.04) and 8 above 0.065.
CLOSED_LIPS = 0.065
CLOSED_LIPS_DLIB68 = 0.04
# Faces this large (px) give their lips' and eyes' colour to the friend in full; smaller ones less (a 36 px old
# woman's lips turned a friend's mouth into a blue blob).
FEATURE_TRUST_PX = 90.0
# A lip pixel this much lighter (Lab L) than the lip around it, and this much less coloured (chroma against the
# lips' median), is a glint. Lighter alone painted over 59-98% of the lips of large, sharp friend photos (the lower
# lip's sheen, the lines of the lips), which left flat blotches on the mouths of faces of 300 px and more
# (couple.jpg); lip-coloured, they are lip. Gloss, a flash and teeth are whitish: 8% of mark_zuckerberg/img14.jpg's
# glossy lips are painted now, under 1% of the bare lips of matt_damon/img32.jpg, jennifer_aniston/img3.jpg and
# jeff_bezos/img21.jpg.
GLINT_MIN_LIGHTNESS = 4.0
GLINT_MAX_CHROMA = 0.6
# Where the target's fine band replaces the friend's: skin, away from both faces' features by this fraction.
# Faces up to TARGET_LOW_FULL_PX take all their light and colour from the target below these blurs (fractions of
# the face size); the share fades out by TARGET_LOW_UNTIL_PX, where match_colour's shading alone does well.
TARGET_LOW_FULL_PX = 48.0
TARGET_LOW_UNTIL_PX = 80.0
LOW_SIGMA_FRACTION = 0.12
COLOUR_SIGMA_FRACTION = 0.06
# Of the friend's colour detail above that blur (a* and b* of lips, lids and teeth; not the eyes) such faces keep this
# share. The friend photo's own colour came along at full strength: magenta lips, red rims around the eyes, cyan
# teeth ("purple-tinged eyes", "red smeared lips", blind sets). In paired tests of the 44 crowd-size swaps of seeds
# 100-103 (39 changed), two fresh viewers each preferred half the detail to all of it 38:1 and 39:0 with the eyes
# toned down too, 39:0 and 34:5 with them left alone (a blue-eyed friend's eyes turned grey otherwise).
CHROMA_DETAIL = 0.5
GRAIN_FEATURE_GROW = 0.06
# The target's own lower face (see _lower_face_kept) fades in over this distance (fraction of the face size) from
# either face's lips and nostrils, and out over this feather at its outer edge. It is kept from faces of
# LOWER_FACE_FROM_PX, in full from LOWER_FACE_FULL_PX: on smaller faces the mouth region is much of who the friend
# is (kept at every size, the friend was still nearest among the room's 13 people in 71% of swaps at 36-44 px
# instead of 88-100%; as shipped, unchanged up to 72 px and 17/18 instead of 18/18 at 96 px, the miss a friend on
# the portrait of a bearded person of the room).
LOWER_FACE_LIPS_GROW = 0.02
LOWER_FACE_FEATHER = 0.03
LOWER_FACE_FROM_PX = 48.0
LOWER_FACE_FULL_PX = 72.0
# A friend photo whose beard estimate (traits.describe) reaches this keeps the target's lower face at every size: the
# beard was a grey jaw or a stuck-on moustache on crowd faces (blind test). Measured with the bench: nearest the friend
# 17/24 -> 14-15/24 at 24 px, unchanged from 28 px (every placement is checked that way when it is made).
BEARDED_SOURCE = 0.75
GRAIN_FROM_PX = 90.0
GRAIN_FULL_PX = 200.0


# A friend photo whose brows and eyes are darker against its skin than the target's (traits' feature_darkness) costs
# this much of its score per L* unit: those features are the friend's in the swap, and the darkest-featured photos
# (heavy lids, dark lash lines and brows) came out as narrowed eyes and a harsh face. Over four blind sets (72 swaps,
# 144 looks) swaps 20 L* or more darker there were caught in 31 of 40 looks, under 20 in 47 of 104.
DARKER_FEATURES_COST = 0.005
# A friend photo whose lipstick (traits' estimate) exceeds the target's by more than fit.MAKEUP_MARGIN costs this much
# of its score per unit: the lips take the target's redness, not its hue, and scarlett_johansson/img50's orange
# lipstick on 2.jpg's bare-lipped woman was caught by both viewers of four blind sets running, when two of her
# smiling photos have bare lips. In a paired test of the 8 swaps it changed on the shared crowds and 2.jpg (each
# rendered with and without, side by side, two viewers), the photo chosen with it was preferred 6:2 and 6:2.
LIPSTICK_COST = 0.15
# A photo whose eyes look aside (traits.gaze, a share of the eye's width) where the target's do not costs this much
# of its score per unit beyond GAZE_FREE (the reading's scatter, and irises a turned head shows off-centre): pasted
# on a stranger looking into the camera, jack_dorsey/img17.jpg's sideways glance (0.17) was caught by every viewer
# of two blind sets ("eye region distorted", "eyes misaligned"); it was his photo for 13 of stadium.jpg's 23 faces,
# still for 4 at a cost of 3, for none at 5.
GAZE_COST = 5.0
GAZE_FREE = 0.08


class Source(NamedTuple):
    """A friend's face chosen as a swap source: its index and whether its photo is used mirrored."""

    face_index: int
    mirrored: bool = False


def best_source(faces: Sequence[Face], target: Face | None = None) -> Source:
    """Return the face that makes the best swap source (large, frontal, sharp; posed like ``target``).

    A photo turned the other way from the target is used mirrored (see faces.mirrored): a face is nearly symmetric,
    and warping a head turned 20 degrees left onto one turned right skewed its features (blind test).
    """
    if not faces:
        raise ValueError("no faces to choose a source from")
    wanted = None if target is None else traits.expression_of(target)
    mirrored = [False] * len(faces)

    def rank(index: int) -> tuple[bool, float, float]:
        face = faces[index]
        usable, score, size = preference(face.quality, face.usable)
        if wanted is not None:
            # A photo with the target's expression and head turn needs the least warping and reads as that face.
            mismatch, mirrored[index] = expression.posed_like(wanted, traits.expression_of(face))
            score -= mismatch
        if target is not None:
            score -= _look_costs(face.quality, target.quality, mirrored[index])
        return (usable, score, size)

    best = max(range(len(faces)), key=rank)
    return Source(best, mirrored[best])


def _look_costs(photo: Mapping[str, float], target: Mapping[str, float], mirrored: bool) -> float:
    """Return what a friend photo's look costs on ``target`` (quality keys of both): darker features, eyes looking
    aside, lipstick; a signal either face lacks costs nothing."""

    def beyond(key: str, margin: float = 0.0) -> float:
        if key not in photo or key not in target:
            return 0.0
        return max(0.0, float(photo[key]) - float(target[key]) - margin)

    gaze = float(photo.get("gaze", 0.0)) * (-1.0 if mirrored else 1.0)
    looks_off = max(0.0, abs(gaze - float(target.get("gaze", 0.0))) - GAZE_FREE)
    return (
        DARKER_FEATURES_COST * beyond("feature_darkness")
        + GAZE_COST * looks_off
        + LIPSTICK_COST * beyond("lipstick", fit.MAKEUP_MARGIN)
    )


def answer_box(face: Face, image_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """Return ``face.box`` as (x, y, w, h) fractions of the image's width and height, clipped to 0..1."""
    width, height = image_size
    left, top, box_w, box_h = face.box
    x0 = min(max(left / width, 0.0), 1.0)
    y0 = min(max(top / height, 0.0), 1.0)
    x1 = min(max((left + box_w) / width, 0.0), 1.0)
    y1 = min(max((top + box_h) / height, 0.0), 1.0)
    return (x0, y0, x1 - x0, y1 - y0)


def _solid(region: np.ndarray) -> np.ndarray:
    """Return ``region`` as a uint8 mask of its largest piece with the holes filled (seamlessClone needs one blob)."""
    mask = region.astype(np.uint8) * 255
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return mask
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask = np.where(labels == largest, 255, 0).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 255, thickness=cv2.FILLED)
    return filled


def _odd(value: float) -> int:
    return max(3, int(value) // 2 * 2 + 1)


def _polygon(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 255)
    return mask


def _close_mouth(rgb: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """Return ``rgb`` with the mouth interior (teeth, tongue) painted over from the lips and a closed lips' line."""
    inner = _polygon(rgb.shape[:2], landmarks[warp.INNER_LIPS])
    size = float(np.ptp(landmarks[48:60, 0]))
    inner = cv2.dilate(inner, masks.disc(size * 0.08))
    closed = cv2.inpaint(np.ascontiguousarray(rgb), inner, max(2.0, size * 0.08), cv2.INPAINT_TELEA)
    # Lips without the dark line where they meet read as one pouting blob: draw that line, from the darkest lip
    # colour, along the middle of the inner lips.
    lips = _polygon(rgb.shape[:2], landmarks[warp.OUTER_LIPS]) > 0
    if lips.sum() < 10:
        return closed
    values = closed[lips].astype(np.float32)
    dark = values[values.sum(axis=1) <= np.percentile(values.sum(axis=1), 10)].mean(axis=0) * 0.8
    middle = [landmarks[48]] + [(landmarks[a] + landmarks[b]) / 2.0 for a, b in ((61, 67), (62, 66), (63, 65))]
    line = np.zeros(rgb.shape[:2], dtype=np.uint8)
    points = np.round(np.array([*middle, landmarks[54]])).astype(np.int32)
    cv2.polylines(line, [points], False, 255, max(1, int(round(size * 0.025))), cv2.LINE_AA)
    alpha = cv2.GaussianBlur(line, (0, 0), max(0.5, size * 0.01)).astype(np.float32)[..., None] / 255.0
    return np.clip(closed * (1.0 - alpha) + dark * alpha + 0.5, 0, 255).astype(np.uint8)


def _remove_lip_glints(rgb: np.ndarray, landmarks: np.ndarray, closing: bool) -> np.ndarray:
    """Return ``rgb`` with bright glints on the lips (gloss, a flash) painted over from the lip around them.

    With ``closing`` the mouth's interior is searched too (a mouth about to be closed keeps no teeth).
    """
    # A glint on a friend's lower lip, shrunk onto a crowd face, reads as a white line across the mouth.
    shape = (rgb.shape[0], rgb.shape[1])
    lips = masks.features_mask(shape, landmarks, 0, (warp.OUTER_LIPS,)) > 0
    if not closing:
        lips &= ~(_polygon(shape, landmarks[warp.INNER_LIPS]) > 0)
    if lips.sum() < 20:
        return rgb
    size = float(np.ptp(landmarks[48:60, 0]))
    lab = masks.to_lab(rgb)
    lightness = lab[..., 0]
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    # A glint is a thin streak brighter than the lip around it: a white top-hat picks it out whatever the lip's
    # own shade (a pale lower lip under a dark upper one hid it from a plain threshold).
    streaks = lightness - cv2.morphologyEx(lightness, cv2.MORPH_OPEN, masks.disc(size * 0.06))
    whitish = chroma < GLINT_MAX_CHROMA * float(np.median(chroma[lips]))
    glints: np.ndarray = (
        (cv2.dilate(lips.astype(np.uint8), masks.disc(2)) > 0) & (streaks > GLINT_MIN_LIGHTNESS) & whitish
    )
    if not glints.any():
        return rgb
    glints = cv2.dilate(glints.astype(np.uint8) * 255, masks.disc(size * 0.02))
    return cv2.inpaint(np.ascontiguousarray(rgb), glints, max(2.0, size * 0.05), cv2.INPAINT_TELEA)


def _closed_lips(face: Face) -> float:
    """Return the mouth gap up to which ``face``'s lips read as together (its landmarks' model reads them apart)."""
    return CLOSED_LIPS if face.mesh is not None else CLOSED_LIPS_DLIB68


def _points(source: Face, target: Face, keep_mouth: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the source points, where they go, and the target's own points.

    The first 68 rows are the 68 landmarks; then 10 forehead points, or the rest of the dense mesh when both faces
    have one (the 68 are mesh vertices themselves: each vertex is warped once, with one destination).
    """
    target_68 = np.asarray(target.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    src_68 = np.asarray(source.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    frontalness = float(target.quality.get("frontalness", 1.0))
    dst_68 = warp.destination_points(src_68, target_68, frontalness, target_mouth=keep_mouth)
    src_mesh, target_mesh = warp.mesh_of(source), warp.mesh_of(target)
    if src_mesh is not None and target_mesh is not None:
        # The dense mesh follows the whole face up to the hairline.
        dst_mesh = warp.mesh_destination(src_mesh, target_mesh, dst_68)
        rest = warp.MESH_REST
        return (
            np.vstack([src_68, src_mesh[rest]]),
            np.vstack([dst_68, dst_mesh[rest]]),
            np.vstack([target_68, target_mesh[rest]]),
        )
    return warp.with_forehead(src_68), warp.with_forehead(dst_68), warp.with_forehead(target_68)


def _swap_one(canvas: np.ndarray, source_rgb: np.ndarray, source: Face, target: Face, seed: int = 0) -> np.ndarray:
    """Return ``canvas`` with ``source``'s face put in place of ``target``'s."""
    target_expr, source_expr = traits.expression_of(target), traits.expression_of(source)
    # An open-mouthed target keeps its own teeth and tongue unless the friend's photo shows theirs; a closed one
    # gets the friend's lips closed (teeth squeezed into a closed mouth were the white line across the lips).
    keep_mouth = target_expr.mouth_is_open and not source_expr.mouth_is_open
    # Parted lips show teeth; a friend whose lips are together keeps them (painting them over left a pouting blob).
    # Only on a target whose own lips are together: a smile showing teeth on a 60-70 px face reads 0.06-0.10 with the
    # mesh's points, just below MOUTH_OPEN, and closing a laughing friend's mouth there left a dark smear where the
    # target shows teeth (linzaer's 16.jpg). Between the two the friend's mouth stays as it is.
    close_mouth = target_expr.mouth_open <= _closed_lips(target) and source_expr.mouth_open > _closed_lips(source)
    src_all, dst_all, tgt_all = _points(source, target, keep_mouth)
    face_size = float(max(*np.ptp(dst_all, axis=0), 8.0))
    margin = int(face_size * 0.6) + 8
    # Pad by reflection so faces touching the border still get a full working area for cloning.
    padded = cv2.copyMakeBorder(canvas, margin, margin, margin, margin, cv2.BORDER_REFLECT_101)
    x0, y0 = np.floor(dst_all.min(axis=0) + margin).astype(int) - margin // 2
    x1, y1 = np.ceil(dst_all.max(axis=0) + margin).astype(int) + margin // 2
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, padded.shape[1]), min(y1, padded.shape[0])
    offset = np.array([x0 - margin, y0 - margin], dtype=np.float64)
    seen = np.ascontiguousarray(padded[y0:y1, x0:x1])
    # Whether the stranger wears glasses is read at the photo's own size; enlarged, frames are fainter. Under
    # glasses.MIN_FACE_PX frames cannot be told from skin (such faces host no friend, see fit.py).
    target_68 = tgt_all[:68] - offset
    worn = float(np.ptp(target_68, axis=0).max()) >= glasses.MIN_FACE_PX and glasses.wears_glasses(seen, target_68)

    # Small faces are worked on enlarged: every mask, warp and blend then has pixels enough to be smooth.
    scale = float(np.clip(WORK_FACE_PX / face_size, 1.0, MAX_SUPERSAMPLE))
    big_seen = seen if scale == 1.0 else cv2.resize(seen, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    big_size = face_size * scale
    local_dst = (dst_all - offset) * scale
    local_target = (tgt_all - offset) * scale
    # The stranger's glasses stay in front of the friend's face, like any occluder: painted out, their rims were
    # half-transparent ghosts across the friend's eyes (blind test).
    # The colour, light and texture are read without them.
    frames_big = glasses.frames_mask(big_seen, local_target[:68], worn=worn)
    big, roi = big_seen, seen
    if frames_big.any():
        big = cv2.inpaint(big_seen, frames_big, max(2.0, big_size * 0.02), cv2.INPAINT_TELEA)
        roi = big if scale == 1.0 else cv2.resize(big, (seen.shape[1], seen.shape[0]), interpolation=cv2.INTER_AREA)

    # Crop (and shrink) the source around its points so the warp never touches the whole friend photo.
    src_size = float(max(np.ptp(src_all, axis=0)))
    src_margin = int(src_size * 0.3) + 4
    sx0, sy0 = np.maximum(np.floor(src_all.min(axis=0)).astype(int) - src_margin, 0)
    sx1 = min(int(np.ceil(src_all[:, 0].max())) + src_margin, source_rgb.shape[1])
    sy1 = min(int(np.ceil(src_all[:, 1].max())) + src_margin, source_rgb.shape[0])
    src_crop = source_rgb[sy0:sy1, sx0:sx1]
    local_src = src_all - np.array([sx0, sy0])
    shrink_by = min(1.0, SOURCE_OVERSAMPLE * big_size / max(src_size, 1.0))
    if shrink_by < 1.0:
        size = (max(1, round(src_crop.shape[1] * shrink_by)), max(1, round(src_crop.shape[0] * shrink_by)))
        src_crop = cv2.resize(src_crop, size, interpolation=cv2.INTER_AREA)
        local_src = local_src * shrink_by
    # A friend's parted lips over a target's open mouth (kept): the friend's teeth, stretched to the target's opening,
    # left white specks along both lips around the target's own teeth (blind test). Their lips are closed first.
    paint_teeth = close_mouth or (keep_mouth and source_expr.mouth_open > _closed_lips(source))
    # Glints first: closing the mouth paints from the lips around it, and a glint there would be smeared across it.
    src_crop = _remove_lip_glints(src_crop, local_src[:68], paint_teeth)
    if paint_teeth:
        src_crop = _close_mouth(src_crop, local_src[:68])

    # The friend's skin likelihood travels with the pixels through the warp, as a fourth channel.
    src_skin = masks.skin_likelihood(src_crop, local_src[:68])
    # Small faces take the friend's whole hull (see SKIN_MASK_FROM_PX), so a fringe over the friend's forehead is
    # painted over in their skin's colour (read as hair still, for the skin restriction of larger faces): pasted, it
    # came out as white and red stripes across a 48 px stranger's brow; left out of the blend instead, the
    # stranger's own strands and glasses showed through (blind tests).
    if face_size < SKIN_MASK_FROM_PX + SKIN_MASK_FULL_SPAN_PX:
        src_crop = _paint_out_fringe(src_crop, local_src, src_skin)
    src_skin = src_skin * 255.0
    src_lips = masks.features_mask(src_crop.shape[:2], local_src[:68], 0, (warp.OUTER_LIPS,)).astype(np.float32)
    warped_all = warp.warp_triangles(
        np.dstack([src_crop.astype(np.float32), src_skin, src_lips]), local_src, local_dst, big.shape[:2]
    )
    warped, warped_skin, warped_lips = warped_all[..., :3], warped_all[..., 3] / 255.0, warped_all[..., 4] > 127
    # Once more where the lips landed: a stretched triangle of the mouth can still carry a speck of glint.
    warped = _remove_lip_glints(
        np.clip(warped + 0.5, 0, 255).astype(np.uint8), local_dst[:68], close_mouth or keep_mouth
    ).astype(np.float32)
    shape = (big.shape[0], big.shape[1])
    roi_skin = masks.skin_likelihood(big, local_target[:68])

    hull = cv2.convexHull(np.round(local_dst).astype(np.int32))
    hull_mask: np.ndarray = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(hull_mask, hull, 255)
    erode = max(1, int(big_size * ERODE_FRACTION))
    hull_mask = cv2.erode(hull_mask, masks.disc(erode))
    # Paint only where both faces show skin (or the friend's brows, eyes, nose and mouth): the hull of the landmarks
    # also covers the friend's hair at the temples and the stranger's fringe.
    features = (
        np.maximum(
            masks.features_mask(shape, local_dst[:68], big_size * FEATURE_GROW_FRACTION, masks.EYES_NOSE_MOUTH),
            # Brows grow less: the friend's hair often starts right at their outer ends.
            masks.features_mask(shape, local_dst[:68], big_size * BROW_GROW_FRACTION, masks.BROWS),
        )
        / 255.0
    )
    shared = np.minimum(warped_skin, roi_skin)
    shared = cv2.GaussianBlur(shared, (_odd(big_size * SKIN_SMOOTH_FRACTION),) * 2, 0)
    keep = np.maximum(features, np.clip((shared - 0.5) / 0.4, 0.0, 1.0))
    # On small faces a few pixels of hair go unseen, while a patchy colour model costs the friend's likeness.
    strength = float(np.clip((face_size - SKIN_MASK_FROM_PX) / SKIN_MASK_FULL_SPAN_PX, 0.0, 1.0))
    soft = (1.0 - strength + strength * keep) * (hull_mask / 255.0)
    mask = _solid(soft > 0.5)
    if cv2.countNonZero(mask) < 16:
        return canvas
    skin = (np.minimum(warped_skin, roi_skin) > 0.6) & (mask > 0) & (features == 0)
    # Tone from the skin both faces show: the hull's hair, brows and eyes made large faces lighter and cooler than
    # the stranger's neck.
    stats_region = skin if skin.sum() >= 50 else mask > 0
    target_lips = masks.features_mask(shape, local_target[:68], 0, (warp.OUTER_LIPS,)) > 0
    target_lips &= ~(_polygon(shape, local_target[warp.INNER_LIPS]) > 0)
    # The target's light at every size: without it a side-lit friend photo kept its half-dark face on a 36 px target.
    friend_eyes = masks.features_mask(shape, local_dst[:68], 0, masks.EYES) > 0
    # The friend's lips without the teeth between them: their colour is the lips'.
    friend_lips = warped_lips & (mask > 0) & ~(_polygon(shape, local_dst[warp.INNER_LIPS]) > 0)
    target_eyes = masks.features_mask(shape, local_target[:68], 0, masks.EYES) > 0
    corrected = colour.match_colour(
        warped,
        big,
        stats_region,
        big_size,
        features=[(friend_lips, target_lips, colour.LIPS), (friend_eyes, target_eyes, colour.EYES)],
        light_region=(mask > 0) & ((roi_skin > 0.3) | (features > 0)),
        # The friend's teeth take no colour from around them: the shift that takes a friend's lipstick toward the
        # target's bare lips turned a laughing friend's teeth cyan (stadium.jpg, scarlett_johansson/img50.jpg).
        keep_colour=cv2.GaussianBlur(
            _polygon(shape, local_dst[warp.INNER_LIPS]).astype(np.float32) / 255.0, (0, 0), max(0.5, big_size * 0.01)
        ),
        # A small face's lip and eye colours are a few pixels of mostly shadow: trust them from FEATURE_TRUST_PX.
        feature_trust=float(np.clip(face_size / FEATURE_TRUST_PX, 0.2, 1.0)) ** 2,
    )
    corrected_u8 = np.clip(corrected + 0.5, 0, 255).astype(np.uint8)

    x, y, w, h = cv2.boundingRect(mask)
    center = (x + w // 2, y + h // 2)
    # seamlessClone may write into the mask it is given, so it gets a copy.
    cloned = cv2.seamlessClone(corrected_u8, big, mask.copy(), center, cv2.NORMAL_CLONE)
    # Poisson cloning pulls the whole face toward the target's border colours, which washes the friend's features
    # out on small faces. So the clone only carries the seam; the core is the colour-corrected friend.
    core = cv2.erode(mask, masks.disc(2 * erode))
    core_alpha = cv2.GaussianBlur(core, (_odd(big_size * CORE_FEATHER_FRACTION),) * 2, 0)
    core_alpha = core_alpha.astype(np.float32)[..., None] / 255.0
    face_big = corrected * core_alpha + cloned.astype(np.float32) * (1.0 - core_alpha)
    # Feathering the clone's edge hides the seam seamlessClone can leave on hair or busy backgrounds.
    alpha_big = cv2.GaussianBlur(mask, (_odd(big_size * FEATHER_FRACTION),) * 2, 0).astype(np.float32) / 255.0
    if keep_mouth:
        interior = _polygon(shape, local_target[warp.INNER_LIPS])
        interior = cv2.GaussianBlur(cv2.erode(interior, masks.disc(big_size * 0.005)), (0, 0), big_size * 0.006)
        alpha_big *= 1.0 - interior.astype(np.float32) / 255.0
    # The target's own skin around the mouth: its stubble or bare upper lip, not the friend's beard.
    lower = float(np.clip((face_size - LOWER_FACE_FROM_PX) / (LOWER_FACE_FULL_PX - LOWER_FACE_FROM_PX), 0.0, 1.0))
    bearded = float(source.quality.get("beard", 0.0)) >= BEARDED_SOURCE
    # A friend's closed lips stretched open around a kept open mouth came out smeared and lumpy, or pursed over the
    # stranger's teeth; a bearded friend's brought beard hairs with them, white specks around the mouth
    # (jack_dorsey/img62.jpg on a 51 px face). There the lips and the lower face are the target's, from
    # LOWER_FACE_FROM_PX: on smaller faces the mouth is much of who the friend is. Paired tests of the blind swaps it
    # changed (rendered both ways, side by side, order shuffled, two viewers each): for bearded friends 4:1 and 4:1;
    # for every friend 13:5 and 15:3 (18 open mouths of our crowds, 48-128 px; where the old won, the new mouth was
    # the stranger's own, odd in the photo itself). The bench's one cost: jeff_bezos on sundar_pichai's own open-mouthed
    # portrait, the portrait's own person in the room, is nearest that person from 56 px.
    lips = keep_mouth and face_size >= LOWER_FACE_FROM_PX
    if bearded or lips:
        lower = 1.0
    if lower > 0.0:
        alpha_big *= 1.0 - lower * _lower_face_kept(shape, local_dst[:68], local_target[:68], big_size, lips=lips)
    # Whatever covers the target's face stays in front of the friend's.
    alpha_big *= 1.0 - occlusion.occluder_mask(big, local_target[:68], local_target)
    if frames_big.any():
        alpha_big *= 1.0 - masks.feather(frames_big > 0, max(0.5, big_size * 0.004))

    # Back to the photo's own size, then the target's finest band and sharpness.
    native = (roi.shape[1], roi.shape[0])
    if scale != 1.0:
        face_native = cv2.resize(face_big, native, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(alpha_big, native, interpolation=cv2.INTER_AREA)
    else:
        face_native, alpha = face_big, alpha_big
    mouth_native = (
        _polygon((roi.shape[0], roi.shape[1]), (dst_all - offset)[warp.INNER_LIPS]).astype(np.float32) / 255.0
    )
    # Where the friend's eyes lie, feathered: they keep their colour, and no lighter and no darker than the target's.
    friend_eyes = (
        masks.features_mask((roi.shape[0], roi.shape[1]), (dst_all - offset)[:68], face_size * 0.03, masks.EYES) > 0
    )
    eyes_reach = masks.feather(friend_eyes, max(0.5, face_size * 0.02))
    face_native = _target_light_and_colour(face_native, roi, alpha, face_size, teeth=mouth_native, eyes=eyes_reach)
    face_native = _keep_target_skin(face_native, roi, alpha, dst_all - offset, tgt_all - offset, face_size, seed)
    face_native = _eyes_in_range(face_native, roi, friend_eyes, eyes_reach, (tgt_all - offset)[:68])
    blended = face_native * alpha[..., None] + seen.astype(np.float32) * (1.0 - alpha[..., None])
    padded[y0:y1, x0:x1] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)
    height, width = canvas.shape[:2]
    return np.ascontiguousarray(padded[margin : margin + height, margin : margin + width])


def _paint_out_fringe(rgb: np.ndarray, points: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """Return the friend's photo ``rgb`` with the hair hanging over their forehead painted over in their skin's colour.

    ``points`` are the face's points in ``rgb`` (the 68 landmarks first), ``likelihood`` its skin likelihood. Read at
    the photo's own size, where a fringe is many pixels; the forehead then takes the target's light and colour like
    the rest of a small face.
    """
    shape = (rgb.shape[0], rgb.shape[1])
    size = float(max(np.ptp(points, axis=0)))
    hull = np.zeros(shape, dtype=np.uint8)
    cv2.fillConvexPoly(hull, cv2.convexHull(np.round(points).astype(np.int32)), 255)
    skin = cv2.GaussianBlur(likelihood, (_odd(size * SKIN_SMOOTH_FRACTION),) * 2, 0)
    brows = masks.features_mask(shape, points[:68], size * BROW_GROW_FRACTION, masks.BROWS) > 0
    up = _upward(points[:68])
    above_brows = _above(points[17:27], up, shape)
    hair = _fringe(points[:68], hull, (skin < 0.7) & ~brows, above_brows)
    bare = (skin > 0.9) & (hull > 0)
    # A fringe hangs over the middle of the forehead, between the brows' inner ends: hair only at the temples is the
    # hairline's (painted, a Caltech friend's temples came out as flat patches at a 59 px stranger's hairline).
    middle = _above(points[[21, 22]], up, shape)
    if (hair & middle).sum() < FRINGE_MIDDLE * max(1, middle.sum()) or bare.sum() < 16:
        return rgb
    # A fringe that covers much of the forehead takes it all: the skin of its parting, left, came out as a bright
    # streak down a 48 px stranger's forehead (blind test).
    forehead = above_brows & (hull > 0) & ~brows
    paint = forehead if hair.sum() >= FRINGE_WHOLE * forehead.sum() else hair
    weight = masks.feather(cv2.dilate(paint.astype(np.uint8), masks.disc(size * 0.01)) > 0, max(0.5, size * 0.01))
    colour = np.median(rgb[bare], axis=0).astype(np.float32)
    painted = rgb.astype(np.float32) * (1.0 - weight[..., None]) + colour * weight[..., None]
    return np.clip(painted + 0.5, 0, 255).astype(np.uint8)


def _above(row: np.ndarray, up: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Return (bool) the forehead over ``row`` (points along the brows), up to 0.8 of ``up`` (see _upward) and no
    wider than the row."""
    return _polygon(shape, np.vstack([row, (row + up * 0.8)[::-1]])) > 0


def _upward(points: np.ndarray) -> np.ndarray:
    """Return the way up the face at ``points`` (68 landmarks): from the nose tip to the middle of the brows."""
    return np.asarray(points[17:27].mean(axis=0) - points[30], dtype=np.float64)


def _fringe(friend: np.ndarray, hull: np.ndarray, not_skin: np.ndarray, forehead: np.ndarray) -> np.ndarray:
    """Return where hair hangs over the friend's forehead (bool), ``friend`` being their 68 landmarks.

    ``not_skin`` (bool) is where the friend shows neither skin nor brows; ``hull`` (uint8) the face; ``forehead``
    (bool) the forehead over their brows (_above). Hair hangs in from the hairline: pieces of the forehead that are
    not skin and reach up beyond ``hull`` there. What does not (a bald friend's shine, the shade at a brow's end) is the
    friend's own forehead: painting it over cost the bench's small faces likeness, as would the temples' hairline.
    """
    brows, up = friend[17:27], _upward(friend)
    shape = (hull.shape[0], hull.shape[1])
    hairline = (_polygon(shape, np.vstack([brows + up * 0.5, (brows + up * 2.0)[::-1]])) > 0) & (hull == 0)
    candidates = (forehead | hairline) & not_skin
    _, pieces = cv2.connectedComponents(candidates.astype(np.uint8), connectivity=8)
    hanging = np.unique(pieces[hairline & candidates])
    return forehead & (hull > 0) & candidates & np.isin(pieces, hanging[hanging > 0])


def _eyes_in_range(
    face: np.ndarray, roi: np.ndarray, friend_eyes: np.ndarray, reach: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Return ``face`` (float RGB, the photo's size) with the friend's eyes within the lightness of the target's own.

    ``friend_eyes`` is where the friend's eyes lie (``reach`` the same, feathered); ``target`` the target's own 68
    landmarks in ``roi``. See WHITES_MARGIN.
    """
    own = masks.features_mask((face.shape[0], face.shape[1]), target, 0, masks.EYES) > 0
    if own.sum() < 4 or friend_eyes.sum() < 4:
        return face
    lab = masks.to_lab(face)
    darkest, lightest = (float(value) for value in np.percentile(masks.to_lab(roi)[..., 0][own], [5, 95]))
    lab[..., 0] -= WHITES_PULL * np.maximum(lab[..., 0] - (lightest + WHITES_MARGIN), 0.0) * reach
    lab[..., 0] += np.maximum(darkest - lab[..., 0], 0.0) * reach
    return masks.from_lab(lab)


def _lower_face_kept(
    shape: tuple[int, int], friend: np.ndarray, target: np.ndarray, size: float, *, lips: bool = False
) -> np.ndarray:
    """Return (0..1) where the target keeps its own lower face: the skin around the mouth and on the chin.

    The friend's mouth region (masks.EYES_NOSE_MOUTH, grown) carried their facial hair: a bearded friend's
    moustache sat stuck on shaven strangers above a bare chin, a shaven friend cut a bare ring into a stranger's
    stubble, and an old woman lost the lines beside her mouth (blind test, large faces). Facial hair, stubble and
    those lines are the target's skin (issue 11: the target keeps its stubble); the friend's lips and nostrils stay,
    and with ``lips`` only the nostrils (the target keeps its lips too).
    """
    lower = _polygon(shape, np.vstack([target[4:13], target[[35, 33, 31]]]))
    keep: tuple[slice, ...] = (slice(31, 36),) if lips else (warp.OUTER_LIPS, slice(31, 36))
    features = np.maximum(masks.features_mask(shape, friend, 0, keep), masks.features_mask(shape, target, 0, keep))
    # 0 on the lips and nostrils, rising to 1 at the margin: their outline is the friend's.
    away = cv2.distanceTransform((features == 0).astype(np.uint8), cv2.DIST_L2, 3)
    margin = np.clip(away / max(1.0, size * LOWER_FACE_LIPS_GROW), 0.0, 1.0)
    region = ((lower > 0) & (features == 0)).astype(np.float32)
    kept = masks.feather(region, max(0.5, size * LOWER_FACE_FEATHER))
    return kept * margin


def _target_light_and_colour(
    face: np.ndarray,
    roi: np.ndarray,
    alpha: np.ndarray,
    face_size: float,
    teeth: np.ndarray | None = None,
    eyes: np.ndarray | None = None,
) -> np.ndarray:
    """Return a small ``face`` with the target's own low frequencies: its light (L*) and its colour (a*, b*).

    At crowd size who a face is lies in the mid frequencies of its lightness (eyes, brows, nostrils, mouth); its
    colour and broad light are the photo's. Shown blind, small swaps were caught for exactly those: grey or pale
    mask-like faces, a pink cast, a friend's violet blush as a blotch on a stranger's cheek. So up to
    TARGET_LOW_FULL_PX the friend keeps only the detail above a blur of LOW_SIGMA_FRACTION of the face, and the rest
    is the stranger's, measured at the photo's own size over the pasted face only (no background bleeds in).
    ``teeth`` (0..1) is where the friend's open mouth is: teeth keep their own colour (a stranger's red lips there
    would turn them pink, as a lipstick shift once turned them teal). ``eyes`` (0..1) is where the friend's eyes are:
    their colour detail is the friend's (a blue iris is who they are, and colour.match_colour has already matched it).
    """
    share = float(np.clip((TARGET_LOW_UNTIL_PX - face_size) / (TARGET_LOW_UNTIL_PX - TARGET_LOW_FULL_PX), 0.0, 1.0))
    inside = (alpha > 0.5).astype(np.float32)
    if share <= 0.0 or inside.sum() < 16:
        return face
    friend = masks.to_lab(face)

    def smooth(values: np.ndarray, sigma: float) -> np.ndarray:
        # Each blur is normalised by the blurred mask, so nothing outside the pasted face counts.
        blurred = cv2.GaussianBlur(np.ascontiguousarray(values * inside[..., None]), (0, 0), sigma)
        weight = np.maximum(cv2.GaussianBlur(inside, (0, 0), sigma), 1e-3)
        return blurred.reshape(*weight.shape, -1) / weight[..., None]

    # Blurring is linear: the low frequencies of the difference are the difference of the low frequencies. Colour has
    # almost no detail worth keeping at this size: its finer blur takes out blush and casts as well.
    difference = masks.to_lab(roi) - friend
    colour_sigma = max(0.6, face_size * COLOUR_SIGMA_FRACTION)
    shift = np.concatenate(
        [
            smooth(difference[..., :1], max(0.8, face_size * LOW_SIGMA_FRACTION)),
            smooth(difference[..., 1:], colour_sigma),
        ],
        axis=2,
    )
    if teeth is not None:
        shift[..., 1:] *= (1.0 - cv2.GaussianBlur(teeth, (0, 0), max(0.5, face_size * 0.02)))[..., None]
    friend += share * shift * (inside > 0)[..., None]
    # Then the friend's colour detail, toned down around the colour it now has.
    detail = friend[..., 1:] - smooth(friend[..., 1:], colour_sigma)
    toned = share * (1.0 - CHROMA_DETAIL) * (inside > 0) * (1.0 if eyes is None else 1.0 - eyes)
    friend[..., 1:] -= detail * toned[..., None]
    friend[..., 0] = np.clip(friend[..., 0], 0.0, 100.0)
    return masks.from_lab(friend)


def _keep_target_skin(
    face: np.ndarray,
    roi: np.ndarray,
    alpha: np.ndarray,
    dst: np.ndarray,
    tgt: np.ndarray,
    face_size: float,
    seed: int,
) -> np.ndarray:
    """Return the friend's ``face`` with the target's fine skin texture, contrast, sharpness, tonal range and noise."""
    shape = (roi.shape[0], roi.shape[1])
    grow = face_size * GRAIN_FEATURE_GROW
    features = np.maximum(masks.features_mask(shape, dst[:68], grow), masks.features_mask(shape, tgt[:68], grow))
    skin_weight = cv2.GaussianBlur((255 - features).astype(np.float32) / 255.0, (0, 0), max(0.6, grow))
    # On small faces the finest band is most of what a face is (at 36 px it is a pixel wide): taking the target's
    # there brought back the stranger (nearer the stranger than the friend in 8 of 19 shared-crowd swaps), so it is
    # taken in full only from faces of GRAIN_FULL_PX, and small faces get the target's grain level as noise.
    share = float(np.clip((face_size - GRAIN_FROM_PX) / (GRAIN_FULL_PX - GRAIN_FROM_PX), 0.0, 1.0))
    if share > 0:
        face = texture.keep_fine_band(face, roi, share * skin_weight * (alpha > 0.05), face_size)
    region = (alpha > 0.5).astype(np.uint8)
    if region.sum() < 16:
        return face
    # The target's shading and the features' outlines as strong as they were, then their focus, fine detail and grain.
    feathered = masks.feather(region, max(0.5, face_size * 0.02))
    face = texture.match_contrast(face, roi, feathered, face_size)
    face, _ = texture.match_sharpness(face, roi, region)
    face = texture.match_detail(face, roi, region)
    face = colour.keep_tonal_range(face, roi, region, feathered)
    return texture.match_noise(face, roi, region, seed)


def swap_faces(
    crowd_rgb: np.ndarray,
    pairs: Sequence[tuple[np.ndarray, Face, Face]],
    progress: Callable[[float, str], None] | None = None,
) -> np.ndarray:
    """Return ``crowd_rgb`` with each (source image, source face, target face) pair swapped in."""
    canvas = np.ascontiguousarray(crowd_rgb, dtype=np.uint8).copy()
    total = len(pairs)
    for done, (source_rgb, source, target) in enumerate(pairs):
        if progress is not None:
            progress(done / max(total, 1), f"swapping face {done + 1} of {total}")
        canvas = _swap_one(canvas, np.ascontiguousarray(source_rgb, dtype=np.uint8), source, target, seed=done)
    if progress is not None:
        progress(1.0, "swaps done")
    return canvas
