import pytest

from swaps import game

BOX = (0.40, 0.20, 0.10, 0.20)  # left, top, width, height (normalised)


@pytest.mark.parametrize(
    "click",
    [(0.45, 0.30), (0.40, 0.20), (0.50, 0.40), (0.40 - 0.0149, 0.30), (0.45, 0.40 + 0.0299)],
)
def test_clicks_on_or_just_around_the_face_hit(click):
    assert game.is_hit(click, BOX)


@pytest.mark.parametrize("click", [(0.40 - 0.0151, 0.30), (0.45, 0.40 + 0.0301), (0.9, 0.9), (0.0, 0.0)])
def test_clicks_beyond_the_tolerance_miss(click):
    assert not game.is_hit(click, BOX)


def test_tiny_faces_get_a_minimum_margin():
    tiny = (0.5, 0.5, 0.004, 0.004)
    assert game.is_hit((0.5 - 0.0049, 0.502), tiny)
    assert not game.is_hit((0.5 - 0.0051, 0.502), tiny)


def test_hit_scores_points_plus_a_shrinking_time_bonus():
    fast = game.judge((0.45, 0.3), BOX, seconds_elapsed=0)
    slow = game.judge((0.45, 0.3), BOX, seconds_elapsed=60)
    late = game.judge((0.45, 0.3), BOX, seconds_elapsed=10_000)
    assert (fast.hit, fast.points) == (True, game.HIT_POINTS + game.TIME_BONUS_MAX)
    assert slow.points == game.HIT_POINTS + game.TIME_BONUS_MAX // 2
    assert late.points == game.HIT_POINTS


def test_miss_costs_the_penalty():
    miss = game.judge((0.9, 0.9), BOX, seconds_elapsed=5)
    assert (miss.hit, miss.points) == (False, -game.MISS_PENALTY)


def test_rules_text_matches_the_numbers():
    assert str(game.HIT_POINTS) in game.RULES_TEXT and str(game.MISS_PENALTY) in game.RULES_TEXT
