"""Rules of find-the-face: judging a click, scoring it, hints and the reveal's framing. Pure functions, no database."""

import math
import random
from dataclasses import dataclass

ATTEMPTS_PER_FRIEND = 3
HIT_POINTS = 100
MISS_PENALTY = 20
TIME_BONUS_MAX = 50
TIME_BONUS_WINDOW_SECONDS = 120
# A click a little outside the face box still counts: faces in a crowd are small, and a
# finger on a phone is not a mouse. The margin is a fraction of the box size, with a floor
# in image fractions so tiny faces are still fair to hit.
TOLERANCE_FRACTION = 0.15
TOLERANCE_FLOOR = 0.005

# One hint per friend: the picture dims except a region that holds the friend's face. The region is
# several faces wide and placed at random around the face, so it narrows the search without answering it.
HINT_COST = 30
HINT_REGION_MIN = 0.3  # at least this fraction of the picture's width and of its height
HINT_REGION_FACES = 4.0  # and at least this many face widths (heights) across
# The reveal shows each friend's crowd face with this much of the crowd around it, per side.
REVEAL_MARGIN = 0.6

RULES_TEXT = (
    f"Each friend you find scores {HIT_POINTS} points, plus a speed bonus of up to {TIME_BONUS_MAX} "
    f"that shrinks to nothing over the first {TIME_BONUS_WINDOW_SECONDS // 60} minutes. "
    f"Each miss costs {MISS_PENALTY}. You have {ATTEMPTS_PER_FRIEND} tries per friend. "
    f"Stuck? One hint per friend shows the area they are in, for {HINT_COST} points."
)


@dataclass(frozen=True)
class Judgement:
    hit: bool
    points: int


def is_hit(click: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Return whether a click (normalised x, y) lands on a normalised box, with tolerance."""
    x, y = click
    left, top, width, height = box
    margin_x = max(width * TOLERANCE_FRACTION, TOLERANCE_FLOOR)
    margin_y = max(height * TOLERANCE_FRACTION, TOLERANCE_FLOOR)
    return left - margin_x <= x <= left + width + margin_x and top - margin_y <= y <= top + height + margin_y


def time_bonus(seconds_elapsed: float) -> int:
    """Return the speed bonus for a hit this many seconds after the player started."""
    remaining = max(0.0, TIME_BONUS_WINDOW_SECONDS - max(0.0, seconds_elapsed))
    return round(TIME_BONUS_MAX * remaining / TIME_BONUS_WINDOW_SECONDS)


def judge(click: tuple[float, float], box: tuple[float, float, float, float], *, seconds_elapsed: float) -> Judgement:
    """Judge one guess and return its points (a hit with its bonus, or the miss penalty)."""
    if is_hit(click, box):
        return Judgement(hit=True, points=HIT_POINTS + time_bonus(seconds_elapsed))
    return Judgement(hit=False, points=-MISS_PENALTY)


Box = tuple[float, float, float, float]


def as_box(values: list[float] | tuple[float, ...]) -> Box:
    """Return an answer-key box (a JSON list) as a (left, top, width, height) tuple of floats."""
    left, top, width, height = (float(v) for v in values)
    return (left, top, width, height)


def _span(start: float, size: float, region: float, rng: random.Random) -> tuple[float, float]:
    """Return (start, size) of a region along one axis that covers [start, start + size], at a random offset."""
    region = min(1.0, max(region, size))
    # The region's start may lie anywhere that keeps the whole face inside it and itself inside the picture.
    low = max(0.0, start + size - region)
    high = min(start, 1.0 - region)
    offset = low if high <= low else rng.uniform(low, high)
    # Rounded outwards, so the rounded region still holds the whole face.
    first = math.floor(offset * 10_000) / 10_000
    last = min(1.0, math.ceil((offset + region) * 10_000) / 10_000)
    return first, round(last - first, 4)


def hint_region(box: Box, rng: random.Random | None = None) -> Box:
    """Return a region (image fractions) that holds the face box, much larger than it, placed at random."""
    rng = rng or random.SystemRandom()
    left, top, width, height = box
    x, w = _span(left, width, max(HINT_REGION_MIN, width * HINT_REGION_FACES), rng)
    y, h = _span(top, height, max(HINT_REGION_MIN, height * HINT_REGION_FACES), rng)
    return (x, y, w, h)


def reveal_crop(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Return the square crop (pixels: left, top, right, bottom) that frames a face with some crowd around it."""
    left, top, w, h = box[0] * width, box[1] * height, box[2] * width, box[3] * height
    side = max(1, min(round(max(w, h) * (1 + 2 * REVEAL_MARGIN)), width, height))
    cx, cy = left + w / 2, top + h / 2
    x0 = round(min(max(0.0, cx - side / 2), width - side))
    y0 = round(min(max(0.0, cy - side / 2), height - side))
    return x0, y0, x0 + side, y0 + side


def outline_in_crop(box: Box, crop: tuple[int, int, int, int], width: int, height: int) -> Box:
    """Return where the face box sits inside a crop, as fractions of the crop (for a thin outline)."""
    x0, y0, x1, y1 = crop
    cw, ch = max(1, x1 - x0), max(1, y1 - y0)
    return (
        round((box[0] * width - x0) / cw, 4),
        round((box[1] * height - y0) / ch, 4),
        round(box[2] * width / cw, 4),
        round(box[3] * height / ch, 4),
    )
