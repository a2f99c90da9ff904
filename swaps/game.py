"""Rules of find-the-face: judging a click and scoring it. Pure functions, no database."""

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

RULES_TEXT = (
    f"Each friend you find scores {HIT_POINTS} points, plus a speed bonus of up to {TIME_BONUS_MAX} "
    f"that shrinks to nothing over the first {TIME_BONUS_WINDOW_SECONDS // 60} minutes. "
    f"Each miss costs {MISS_PENALTY}. You have {ATTEMPTS_PER_FRIEND} tries per friend."
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
