"""How well a friend fits a crowd face: likeness plus plausibility (gender, age, skin, beard, makeup, pose, size), a floor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import expression, gender, glasses, masks, traits, youth
from .faces import Face, host_refusals

DIFFICULTIES = ("easy", "normal", "hard")
# The smallest crowd face (detector box side, px) a friend is placed on, per difficulty. Measured by
# `python -m swaps.pipeline.bench` ("recognisable size": 24 faces shrunk and swapped, the swapped face embedded again
# and compared with the room's 13 people, the face's own person among them). With RetinaFace and the mesh: nearest
# the friend in 62% of swaps at 24 px (71% before a bearded friend's photo left the target its own lower face at
# every size, swap.BEARDED_SOURCE), 79% at 28, 83% at 32, 88% at 36, 100% at 44-72 (25% at 20 px, where the face
# found again is often below faces.MESH_MIN_SIZE_PX and gets no embedding; with HOG and dlib's points it was 74% at
# 20 px, 87% at 24, 87-91% at 28-32, 96% at 36). Every placement is also checked that way when it is made
# (hiding.hide_friends), so a smaller floor only means more swaps are tried and undone. The floors also follow where
# blind viewers catch swaps least. Over eight viewers of four crowd-size sets (asked for a reason for each pick),
# swaps on faces under 32 px were caught in 16 of 16 looks, on 32-35 px faces in 14 of 18, on 36-45 px faces in 38 of
# 68, with untouched faces of those sizes picked in 5 of 16, 2 of 14 and 25 of 72 looks: 84%, 81% and 61% right.
# Earlier viewers (no reasons asked) caught 19 of 32 swaps at 32-35 px and 4 of 50 at 36-45 px. A swap that stands out
# is easier to find, not harder, so hard starts where normal does and only prefers the smaller faces
# (matching.SIZE_PREFERENCE). Hard was 24 px, then 28; normal was 32.
MIN_FACE_PX = {"easy": 48.0, "normal": 36.0, "hard": 36.0}
# Below this score a friend is never placed on that face; the verdicts split what is above it. The better the fit, the
# less blind viewers catch the swap: over twenty viewers of ten blind sets, swaps scored under 0.70 were caught in 26
# of 32 looks, 0.70-0.75 in 34 of 46, 0.75-0.80 in 78 of 134, 0.80 and more in 92 of 190 (the size of the face counts
# as much, see MIN_FACE_PX). Good starts at 0.70 (was 0.65): higher, most friends fit no crowd of ours well. The
# automatic choice (``matching.place(count=...)``: the command line's --count, the blind test) takes good pairs only;
# a host may still choose a friend who fits fairly or poorly, and the form says so.
FLOOR = 0.35
GOOD = 0.7
FAIR = 0.45
# A large face shows more of a swap: there good starts at GOOD_LARGE. Scored again with today's fit, the swaps of
# twelve blind sets (twenty-four viewers) on faces of LARGE_FACE_PX and more were caught in 32 of 42 looks under 0.75
# (21 swaps) and in 66 of 120 from 0.75 (60 swaps); on smaller faces in 4 of 4 and 66 of 150. Over our 28 test crowds
# it leaves 86 friend-crowd pairs with a good face where 0.70 everywhere left 127 (0.75 everywhere: 77).
GOOD_LARGE = 0.75
LARGE_FACE_PX = 48.0
# Two gender estimates this far apart, on either side of 0.5, never share a face (0.5 let a man onto a 36 px woman
# read 0.45 in a crowd photo of ours). Measured with the shipped model:
# the shared portraits read 0.03-0.17 (women) and 0.78-0.96 (men), stadium.jpg's 36 px faces 0.06-0.44 (women)
# and 0.91-0.98 (men).
GENDER_GAP = 0.3
# A friend's makeup (the lipstick estimate, traits.describe; heavy eye makeup goes with it) beyond a face's by more
# than MAKEUP_MARGIN costs this much plausibility per unit: the first weight on faces up to MAKEUP_FROM_PX, the
# second from MAKEUP_FULL_PX. At 0.3 katy_perry (0.50) still fitted bare-faced women "good" on large faces, and her
# swaps were caught in every large-face blind set (an orange-tan, made-up face, winged eyeliner, the stranger's pale
# hand beside it): 2 of her 2 swaps by both viewers in each of three sets. At crowd size the lips take the target's
# redness and eye makeup is a pixel or two: 0.6 there kept angelina_jolie (1.0 from the game story's three photos)
# off every woman of stadium.jpg.
MAKEUP_MARGIN = 0.2
MAKEUP_WEIGHT = (0.3, 0.6)
MAKEUP_FROM_PX = 48.0
MAKEUP_FULL_PX = 80.0
# Child-likeness (youth.childlikeness): when one of the two faces reads CHILD_LOOK or more and the other is CHILD_GAP
# or more below it, they never share a face (an adult friend on a child was caught by every blind viewer); a smaller
# gap beyond CHILD_MARGIN costs CHILD_WEIGHT per unit. Measured with the shipped model on the 13 children of two test
# crowds (3.jpg, 9.jpg; 36 px and more): 0.25-0.9, 8 of them 0.65 or more; on the ~230 adults of the other test and
# shared crowds mostly under 0.5, four young adults 0.66-0.86; the 61 shared portraits 0.01-0.53.
CHILD_LOOK = 0.65
CHILD_GAP = 0.45
CHILD_MARGIN = 0.25
CHILD_WEIGHT = 0.3
# Shut eyes (masks.EYES_SHUT_DARKNESS) are read from faces this large.
EYES_SHUT_MIN_PX = 40.0
# A still face shows a swap more than a smiling one: over the 269 swaps of fourteen scored blind sets (28 viewers),
# within the same crowd photo, swaps on faces smiling less than 0.6 (expression.read) were caught 27 points more often
# than on those smiling more (stadium.jpg: 25 of 26 looks against 3 of 28; faces of 48 px and more: 0.79 under 0.4,
# 0.40 from 0.8). A face that does not smile costs up to STILL_FACE_WEIGHT of plausibility, the less it smiles the
# more. Over our 32 test crowds, two friends each placed by --count: 18 of 33 on smiling faces at 0, 20 of 31 at 0.1,
# 24 of 30 at 0.2 (24 of 28 at 0.3); friend-crowd pairs with a good face 86, 76, 69 (63).
STILL_SMILE = 0.6
STILL_FACE_WEIGHT = 0.2
# On faces under LARGE_FACE_PX a friend whose brows and eyes are darker against their skin (the median of their
# photos' feature_darkness, traits.describe) than the face's by more than DARKER_FEATURES_MARGIN L* costs
# DARKER_FEATURES_WEIGHT of plausibility per L* beyond it: crisp dark features came out as dark smudges for eyes on a
# soft face. Over 189 scored blind swaps under 48 px such swaps were caught 20 points more within each size band
# (current code: 0.91 of looks against 0.57); from 48 px the difference predicted nothing (see the README).
DARKER_FEATURES_MARGIN = 8.0
DARKER_FEATURES_WEIGHT = 0.015
# Skin tones (traits.describe) further apart than SKIN_TONE_VETO never share a face; beyond the margin they cost up to
# 0.4 of plausibility. A face under traits.SKIN_TONE_MIN_PX has its tone from the whites of the photo's faces pooled
# (traits.pool_skin_tone; from 64 px its own weigh in): that reads a face in shadow darker, and tells 0.92-0.96
# (jeff_bezos, leonardo_dicaprio) from 1.1 no better than noise, so it has the wider margin. Read so, over 405 scored
# blind swaps on such faces (sets 11-66), those whose friend was more than 0.1 lighter were caught in 0.76 of looks
# (40 swaps), the rest in 0.60.
# The ten unique pairs more than 0.28 lighter were caught in 35 of 48 looks: every look for Tony_Blair on 15.jpg's
# Black man, george_clooney, jack_dorsey, Arnold_Schwarzenegger and Vladimir_Putin (0.29) on 17.jpg's brown faces,
# mark_zuckerberg on a 31 px face of 2008_002079.jpg (0.30); 1 of 4 for Gerhard_Schroeder on 15.jpg's Black man
# (0.31), 0 of 10 for george_clooney on a 32 px stadium.jpg face in shade (0.28, under today's smallest face).
# So pooled tones never share a face beyond POOLED_SKIN_TONE_VETO.
SKIN_TONE_VETO = 0.35
SKIN_TONE_MARGIN = 0.08
POOLED_SKIN_TONE_VETO = 0.28
POOLED_SKIN_TONE_MARGIN = 0.2


@dataclass
class Profile:
    """What a friend looks like across their photos: embeddings, faces and the median of each look trait."""

    embeddings: np.ndarray
    faces: list[Face] = field(default_factory=list)
    look: dict[str, float] = field(default_factory=dict)


@dataclass
class Fit:
    """How well one friend fits one crowd face: a score 0..1, a verdict and the main reasons in words."""

    score: float
    verdict: str
    reasons: list[str]
    allowed: bool
    distance: float
    vetoed: bool = False  # refused for what the face is (gender, skin, size), not for a low score

    def as_json(self) -> dict[str, object]:
        """Return the fit as plain JSON values."""
        return {
            "score": round(self.score, 3),
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "allowed": self.allowed,
            "distance": round(self.distance, 4),
        }


def profile(friend: np.ndarray | Sequence[Face]) -> Profile:
    """Return the profile of a friend given as their faces (best) or only their embeddings."""
    if isinstance(friend, np.ndarray):
        embeddings = np.asarray(friend, dtype=np.float64).reshape(-1, 128)
        return Profile(embeddings=embeddings, look=_median_look([], embeddings))
    found = list(friend)
    usable = [face for face in found if face.usable] or found
    embeddings = np.array([face.embedding for face in found], dtype=np.float64).reshape(-1, 128)
    return Profile(embeddings=embeddings, faces=usable, look=_median_look(usable, embeddings))


def _median_look(found: Sequence[Face], embeddings: np.ndarray) -> dict[str, float]:
    """Return the median of each look trait over ``found`` (the gender estimate from ``embeddings`` if absent)."""
    look: dict[str, float] = {}
    for key in traits.TRAIT_KEYS:
        values = [float(face.quality[key]) for face in found if key in face.quality]
        if values:
            # Dim photos make skin read darker than it is, rarely lighter: the tone of the better-lit photos counts.
            look[key] = float(np.percentile(values, 75 if key == "skin_tone" else 50))
    if "masculine" not in look and len(embeddings):
        look["masculine"] = float(np.median([gender.masculinity(e) for e in embeddings]))
    if "child" not in look and len(embeddings):
        look["child"] = float(np.median([youth.childlikeness(e) or 0.0 for e in embeddings]))
    return look


def identity_distance(embeddings: np.ndarray, target: np.ndarray) -> float:
    """Return the mean distance from ``target`` to the friend's three nearest faces (robust to one odd photo)."""
    distances = np.sort(np.linalg.norm(np.asarray(embeddings, dtype=np.float64).reshape(-1, 128) - target, axis=1))
    return float(distances[: min(3, len(distances))].mean())


def target_look(face: Face) -> dict[str, float]:
    """Return the look traits of a crowd face (the gender estimate computed when not stored)."""
    look = {key: float(face.quality[key]) for key in traits.TRAIT_KEYS if key in face.quality}
    look.setdefault("masculine", gender.masculinity(face.embedding))
    child = look.get("child", youth.childlikeness(face.embedding))
    if child is not None:
        look["child"] = child
    return look


def best_expression_mismatch(friend: Profile, target: Face) -> tuple[float, bool]:
    """Return the smallest expression-and-pose mismatch over the friend's photos (as they are or mirrored, see
    swap.best_source) and whether one has an open mouth."""
    if not friend.faces:
        return 0.3, False
    wanted = traits.expression_of(target)
    read = [traits.expression_of(face) for face in friend.faces]
    return min(expression.posed_like(wanted, each)[0] for each in read), any(each.mouth_is_open for each in read)


def pair_fit(
    friend: Profile, target: Face, *, image_size: tuple[int, int] | None = None, difficulty: str = "normal"
) -> Fit:
    """Return how well ``friend`` fits ``target``: score, verdict, whether allowed, and reasons in words."""
    if difficulty not in MIN_FACE_PX:
        raise ValueError(f"difficulty must be one of {', '.join(DIFFICULTIES)}")
    if not target.embedded:
        # Kept as a box only (too small or turned to host, see faces.worth_embedding): never placed.
        reasons = ["face kept as a box only: too small or turned away to host"]
        return Fit(score=0.0, verdict="poor", reasons=reasons, allowed=False, distance=float("inf"), vetoed=True)
    distance = identity_distance(friend.embeddings, target.embedding)
    # Lookalike strangers sit at 0.55-0.65, unrelated faces at 0.8 and beyond.
    likeness = float(np.clip((0.85 - distance) / 0.3, 0.0, 1.0))
    mine, theirs = friend.look, target_look(target)
    size = face_size(target)
    penalties: list[tuple[float, str]] = []
    vetoes: list[str] = []

    masc_f, masc_t = mine.get("masculine", 0.5), theirs["masculine"]
    if abs(masc_f - masc_t) >= GENDER_GAP and (masc_f > 0.5) != (masc_t > 0.5):
        vetoes.append("looks like a " + ("man" if masc_t > 0.5 else "woman") + ", the friend does not")
    else:
        penalties.append((0.5 * abs(masc_f - masc_t), "may read as another gender"))
    if "child" in mine and "child" in theirs:
        young_f, young_t = mine["child"], theirs["child"]
        if max(young_f, young_t) >= CHILD_LOOK and abs(young_f - young_t) >= CHILD_GAP:
            vetoes.append("looks like " + ("a child" if young_t > young_f else "an adult") + ", the friend does not")
        else:
            penalties.append(
                (CHILD_WEIGHT * max(0.0, abs(young_f - young_t) - CHILD_MARGIN), "may read as another age")
            )
    if "beard" in mine and "beard" in theirs:
        penalties.append((0.35 * max(0.0, mine["beard"] - theirs["beard"] - 0.25), "friend's beard, bare face"))
        # The target keeps its own stubble, so the reverse costs less.
        penalties.append((0.15 * max(0.0, theirs["beard"] - mine["beard"] - 0.25), "face has facial hair"))
    if "lipstick" in mine and "lipstick" in theirs:
        excess = max(0.0, mine["lipstick"] - theirs["lipstick"] - MAKEUP_MARGIN)
        large = float(np.clip((size - MAKEUP_FROM_PX) / (MAKEUP_FULL_PX - MAKEUP_FROM_PX), 0.0, 1.0))
        weight = MAKEUP_WEIGHT[0] + large * (MAKEUP_WEIGHT[1] - MAKEUP_WEIGHT[0])
        penalties.append((weight * excess, "makeup differs"))
    if "skin_tone" in mine and "skin_tone" in theirs:
        # Fair skin reads 0.8-1.3 under any light, the darkest shared face 0.68 (see traits.describe).
        delta = abs(min(mine["skin_tone"], 1.1) - min(theirs["skin_tone"], 1.1))
        own = size >= traits.SKIN_TONE_MIN_PX
        if delta > (SKIN_TONE_VETO if own else POOLED_SKIN_TONE_VETO):
            vetoes.append("skin tone too different")
        margin = SKIN_TONE_MARGIN if own else POOLED_SKIN_TONE_MARGIN
        penalties.append((float(np.clip((delta - margin) / 0.3, 0.0, 1.0)) * 0.4, "skin tone differs"))
    if mine.get("glasses", 0.0) >= 0.75 and theirs.get("glasses", 0.0) < 0.5:
        penalties.append((0.12, "friend wears glasses"))
    mismatch, has_open = best_expression_mismatch(friend, target)
    shut = theirs.get("eye_darkness", masks.EYES_SHUT_DARKNESS) < masks.EYES_SHUT_DARKNESS
    if shut and size >= EYES_SHUT_MIN_PX:
        # Every friend photo has open eyes: on a shut-eyed stranger they glowed, on glasses' glare the frames were
        # half erased (blind test).
        vetoes.append("eyes shut or hidden by glare")
    if theirs.get("glasses", 0.0) >= 0.5 and size < glasses.MIN_FACE_PX:
        # The swap keeps a stranger's glasses in front of the friend's face, but a small face's frames cannot be
        # told from its skin: painted half out, they were ghost rims across the friend's eyes (blind test).
        vetoes.append("wears glasses, too small to keep them over the friend's face")
    penalties.append((0.35 * float(np.clip(mismatch - 0.15, 0.0, 1.0)), "expression or head turn differs"))
    doing = traits.expression_of(target)
    penalties.append(
        (STILL_FACE_WEIGHT * max(0.0, STILL_SMILE - doing.smile) / STILL_SMILE, "a still face shows a swap more")
    )
    if "feature_darkness" in mine and "feature_darkness" in theirs and size < LARGE_FACE_PX:
        darker = mine["feature_darkness"] - theirs["feature_darkness"] - DARKER_FEATURES_MARGIN
        penalties.append((DARKER_FEATURES_WEIGHT * max(0.0, darker), "friend's brows and eyes darker"))
    if doing.mouth_is_open and not has_open:
        penalties.append((0.05, "open mouth kept from the crowd face"))

    floor_px = MIN_FACE_PX[difficulty]
    if size < floor_px:
        vetoes.append(f"face too small to recognise ({size:.0f} px < {floor_px:.0f} px)")
    # The faces the app lets host (faces.can_host): turned away, cut by the edge or bowed, every swap blotched.
    vetoes.extend(host_refusals(target.quality))
    frontalness = float(target.quality.get("frontalness", 1.0))
    penalties.append((0.3 * max(0.0, 0.6 - frontalness), "face turned away"))
    inside = float(target.quality.get("inside", 1.0))
    penalties.append((0.6 * (1.0 - inside), "face cut by the edge"))
    if image_size is not None and _touches_edge(target, image_size):
        penalties.append((0.03, "face at the edge"))

    plausible = 1.0 - sum(value for value, _ in penalties)
    score = float(np.clip(0.3 * likeness + 0.7 * plausible, 0.0, 1.0))
    allowed = not vetoes and score >= FLOOR
    good = good_from(size)
    verdict = "good" if allowed and score >= good else "fair" if allowed and score >= FAIR else "poor"
    ranked = [reason for value, reason in sorted(penalties, key=lambda item: -item[0]) if value >= 0.06]
    reasons = vetoes + ranked[:2]
    if not reasons and score < good:
        # Nothing big against the pair, yet not good: its small differences, else too little likeness.
        reasons = [reason for value, reason in sorted(penalties, key=lambda item: -item[0]) if value >= 0.02][:2]
        reasons = reasons or ["little likeness"]
    if not reasons:
        reasons = ["looks alike" if likeness >= 0.6 else "plausible"]
    elif not vetoes and score < FLOOR:
        reasons.insert(0, "below the fit floor")
    return Fit(score=score, verdict=verdict, reasons=reasons, allowed=allowed, distance=distance, vetoed=bool(vetoes))


def good_from(size: float) -> float:
    """Return the score from which a pair is good on a face of ``size`` px (GOOD, on large faces GOOD_LARGE)."""
    return GOOD_LARGE if size >= LARGE_FACE_PX else GOOD


def face_size(face: Face) -> float:
    """Return the face's size in px (the detector's, else the box's geometric mean)."""
    return size_of(face.quality, face.box)


def size_of(quality: Mapping[str, float], box: Sequence[int]) -> float:
    """Return a face's size in px from its quality keys and box (x, y, w, h): what MIN_FACE_PX is compared with."""
    size = quality.get("size")
    return float(size) if size is not None else float(np.sqrt(box[2] * box[3]))


def _touches_edge(face: Face, image_size: tuple[int, int], margin: float = 0.02) -> bool:
    width, height = image_size
    left, top, box_w, box_h = face.box
    return (
        left <= margin * width
        or top <= margin * height
        or left + box_w >= (1 - margin) * width
        or top + box_h >= (1 - margin) * height
    )
