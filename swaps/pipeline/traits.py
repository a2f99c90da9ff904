"""Describe how a face looks beyond who it is: skin tone, facial hair, makeup, glasses, gender estimate, expression."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np

from . import expression, gender, glasses, masks, youth
from .faces import Face

# Cheeks (both sides of the nose, clear of eyes and mouth), the chin and the upper lip, as landmark polygons.
CHEEKS = ([1, 3, 48, 31, 40], [15, 13, 54, 35, 47])
LOWER_FACE = ([6, 7, 8, 9, 10, 57], [31, 33, 35, 54, 51, 48])
# Fine texture is measured at this many pixels across the face: a crowd face is upsampled to it, a portrait shrunk.
TEXTURE_SIZE = 96
TRAIT_KEYS = (
    "skin_l",
    "skin_a",
    "skin_b",
    "skin_tone",
    "beard",
    "lipstick",
    "glasses",
    "masculine",
    "eye_darkness",
    "feature_darkness",
    "child",
)
# What annotate reads, versioned: a face annotated by another version is read again (hiding.annotate_missing), and
# the app keeps the new reading (swaps.services.swaps). Version 2: pooled skin tones (pool_skin_tone).
VERSION = 2
VERSION_KEY = "traits_version"
# Brows (grown by this many px at TEXTURE_SIZE) and eyes: how dark a face's features are against its skin.
BROWS_GROW = 2
# Below this face size the whites of the eyes are a pixel or two and blur into the skin: one face's estimate reads
# lighter than the face is (shrunk from portraits to 40 px, 24 of 42 dark faces still read under 0.85). Smaller faces
# take their tone from the whites of the photo's faces pooled, when at least POOL_MIN_FACES show (pool_skin_tone).
SKIN_TONE_MIN_PX = 80.0
# The pooled whites: the median of at least POOL_MIN_FACES faces whose whites show (open eyes, no glasses). From
# OWN_TONE_FROM_PX up to SKIN_TONE_MIN_PX a face's own whites weigh more and more (0 to 1), so the tone does not jump
# at SKIN_TONE_MIN_PX and a face lit unlike the rest of the photo, read well enough by then, keeps its own.
POOL_MIN_FACES = 3
OWN_TONE_FROM_PX = 64.0
# Below this the chin is a few pixels and its grain is the camera's: the beard estimate was 1.0 on women at 36 px.
BEARD_MIN_PX = 60.0
# Where the eyes look (see _gaze): read from faces of this size up (an iris of a few pixels is not), its iris the
# darkest GAZE_IRIS_PERCENTILE of each eye.
GAZE_MIN_PX = 60.0
GAZE_IRIS_PERCENTILE = 30.0


def _polygon_mask(shape: tuple[int, int], landmarks: np.ndarray, polygons: Sequence[Sequence[int]]) -> np.ndarray:
    mask = np.zeros(shape, dtype=np.uint8)
    for polygon in polygons:
        cv2.fillConvexPoly(mask, np.round(landmarks[list(polygon)]).astype(np.int32), 255)
    return mask > 0


def _crop(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Return the face cut out at ``TEXTURE_SIZE`` px across, its landmarks there and the scale used."""
    low = np.floor(landmarks.min(axis=0)).astype(int)
    high = np.ceil(landmarks.max(axis=0)).astype(int)
    size = float(max(high - low)) or 1.0
    x0, y0 = max(0, low[0]), max(0, low[1])
    x1, y1 = min(rgb.shape[1], high[0] + 1), min(rgb.shape[0], high[1] + 1)
    crop = rgb[y0:y1, x0:x1]
    scale = TEXTURE_SIZE / size
    if crop.size == 0:
        return np.zeros((TEXTURE_SIZE, TEXTURE_SIZE, 3), np.uint8), (landmarks - low) * scale, scale
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)
    return crop, (landmarks - np.array([x0, y0])) * scale, scale


def describe(rgb: np.ndarray, face: Face) -> dict[str, float]:
    """Return the look of ``face`` in ``rgb`` as quality keys: skin Lab, beard, lipstick, glasses, masculine, child."""
    landmarks = np.asarray(face.landmarks, dtype=np.float64).reshape(-1, 2)[:68]
    crop, local, _ = _crop(rgb, landmarks)
    lab = masks.to_lab(crop)
    shape = (crop.shape[0], crop.shape[1])
    cheeks = _polygon_mask(shape, local, CHEEKS)
    lower = _polygon_mask(shape, local, LOWER_FACE)
    result: dict[str, float] = {"masculine": round(gender.masculinity(face.embedding), 4)}
    child = youth.childlikeness(face.embedding)
    if child is not None:
        result["child"] = child
    if cheeks.sum() < 20 or lower.sum() < 20:
        return result
    # The skin model's mean rather than the cheeks' median: on a turned head the far cheek's polygon runs into the
    # background, and the model drops such strays.
    model = masks.skin_model(crop, local)
    skin = model.mean if model is not None else np.median(lab[cheeks], axis=0)
    result.update({"skin_l": float(skin[0]), "skin_a": float(skin[1]), "skin_b": float(skin[2])})
    # Skin lightness alone mostly measures the light (a fair face in shadow reads as dark as a dark face in the sun),
    # so the tone is the skin's lightness against the whites of the same face's eyes (measured: 0.68 for the darkest
    # skin in the shared photos, 0.8-1.3 for fair skin whatever the light).
    eyes = masks.features_mask(shape, local, 0, masks.EYES) > 0
    if eyes.sum() >= 10:
        # How much darker the eyes are than the skin, as a whole: shut eyes (lids) and glasses' glare are not.
        result["eye_darkness"] = masks.eye_darkness(lab[..., 0], eyes, float(skin[0]))
        # The darker quarter of brows and eyes against the skin: lashes, lids' shadows and brows, which a swap keeps
        # from the friend's photo (see swap.best_source).
        features = eyes | (masks.features_mask(shape, local, BROWS_GROW, masks.BROWS) > 0)
        result["feature_darkness"] = float(skin[0]) - float(np.percentile(lab[features][:, 0], 25))
        result["eye_white"] = float(np.percentile(lab[eyes][:, 0], 95))
        if float(face.quality.get("size", 0.0)) >= SKIN_TONE_MIN_PX:
            result["skin_tone"] = _tone(float(skin[0]), result["eye_white"])
    # Stubble and beards darken the chin and upper lip against the cheeks and make them grainier; a shadow under
    # the nose darkens without grain, so both count.
    lower_l = float(np.median(lab[lower][:, 0]))
    cheek_l = float(np.median(lab[cheeks][:, 0]))
    grey = lab[..., 0]
    grain = np.abs(grey - cv2.GaussianBlur(grey, (0, 0), 1.2))
    grain_ratio = float(np.median(grain[lower])) / max(float(np.median(grain[cheeks])), 0.3)
    darker = (cheek_l - lower_l) / max(cheek_l, 1.0)
    if float(face.quality.get("size", 0.0)) >= BEARD_MIN_PX:
        result["beard"] = float(np.clip(darker * 4.0 + (grain_ratio - 1.0) * 0.5, 0.0, 1.0))
    # Lipstick: lips redder than the skin by more than bare lips are.
    lips = masks.features_mask(shape, local, 0, (slice(48, 60),)) > 0
    lips &= ~(masks.features_mask(shape, local, 0, (slice(60, 68),)) > 0)
    if lips.sum() >= 10:
        lip_a = float(np.median(lab[lips][:, 1]))
        result["lipstick"] = float(np.clip((lip_a - float(skin[1]) - 8.0) / 20.0, 0.0, 1.0))
    result["glasses"] = float(glasses.wears_glasses(rgb, landmarks, face.embedding))
    if float(face.quality.get("size", 0.0)) >= GAZE_MIN_PX:
        result["gaze"] = _gaze(lab[..., 0], local)
    return {key: round(value, 4) for key, value in result.items()}


def _gaze(lightness: np.ndarray, landmarks: np.ndarray) -> float:
    """Return how far both irises sit toward one corner of the eyes (a share of the eye's width, + toward the image's
    right): what they share, 0 when they disagree (one eye's reading is a lid's shadow or a glint)."""
    offsets = []
    for first in (36, 42):
        eye = landmarks[first : first + 6]
        mask = np.zeros(lightness.shape, dtype=np.uint8)
        cv2.fillConvexPoly(mask, np.round(eye).astype(np.int32), 255)
        rows, cols = np.nonzero(mask)
        if cols.size < 8:
            return 0.0
        values = lightness[rows, cols]
        iris = values <= np.percentile(values, GAZE_IRIS_PERCENTILE)
        width = abs(float(eye[3, 0] - eye[0, 0])) or 1.0
        offsets.append((float(cols[iris].mean()) - float(eye[0, 0] + eye[3, 0]) / 2.0) / width)
    if offsets[0] * offsets[1] <= 0:
        return 0.0
    return float(np.sign(offsets[0]) * min(abs(offsets[0]), abs(offsets[1])))


def _tone(skin_l: float, white: float) -> float:
    return float(np.clip(skin_l / max(white, 1.0), 0.3, 1.5))


def is_current(quality: Mapping[str, object]) -> bool:
    """Return whether ``quality`` holds the look and expression as this version of annotate reads them."""
    return quality.get(VERSION_KEY) == VERSION


def annotate(rgb: np.ndarray, found: Sequence[Face]) -> None:
    """Add the look and the expression of every face in ``found`` (detected in ``rgb``) to its quality."""
    for face in found:
        face.quality.pop("skin_tone", None)  # a small face's is pooled again below, if it can be
        face.quality.update(describe(rgb, face))
        face.quality.update(expression.read(face.landmarks).as_quality())
        face.quality[VERSION_KEY] = VERSION
    pool_skin_tone(found)


def _whites_show(quality: Mapping[str, float]) -> bool:
    """Return whether a face's eye whites were read: open eyes, no glasses (their glare or frames are not whites)."""
    return (
        "eye_white" in quality
        and quality.get("glasses", 0.0) < 0.5
        and quality.get("eye_darkness", 0.0) >= masks.EYES_SHUT_DARKNESS
    )


def pool_skin_tone(found: Sequence[Face]) -> None:
    """Give the faces of ``found`` (all of one photo) too small for their own skin tone one read against the whites
    of those faces pooled; fewer than POOL_MIN_FACES whites to pool leave them as they are.

    The faces of one photo share its light, so the median of their whites stands in for each small face's own: over
    our crowds it ranks the dark and brown faces under the fair ones (15.jpg's three Black faces, 40-52 px, read 0.71,
    0.77 and 0.88, its other faces 1.02-1.43; by their own whites the three read 1.02-1.32). A face in shadow reads
    darker (0.78 for a fair one of 31 px), which is why fit.py allows such tones a wider margin. From OWN_TONE_FROM_PX
    a face whose own whites show weighs them in.
    """
    whites = [float(face.quality["eye_white"]) for face in found if _whites_show(face.quality)]
    if len(whites) < POOL_MIN_FACES:
        return
    white = float(np.median(whites))
    for face in found:
        quality = face.quality
        size = float(quality.get("size", 0.0))
        if "skin_l" not in quality or size >= SKIN_TONE_MIN_PX:
            continue  # no skin read, or a tone of its own (describe)
        tone = _tone(float(quality["skin_l"]), white)
        if _whites_show(quality):
            own = float(np.clip((size - OWN_TONE_FROM_PX) / (SKIN_TONE_MIN_PX - OWN_TONE_FROM_PX), 0.0, 1.0))
            tone = own * _tone(float(quality["skin_l"]), float(quality["eye_white"])) + (1.0 - own) * tone
        quality["skin_tone"] = round(tone, 4)


def expression_of(face: Face) -> expression.Expression:
    """Return the expression stored in ``face.quality``, read from its landmarks when it is not there."""
    quality = face.quality
    if "expr_mouth_open" in quality:
        return expression.Expression(
            **{key: float(quality[f"expr_{key}"]) for key in expression.Expression.__dataclass_fields__}
        )
    return expression.read(face.landmarks)
