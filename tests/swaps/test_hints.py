"""Hints: a region around one hidden friend, judged and charged on the server, once per friend."""

import random

import pytest
from django.core.cache import cache
from django.test import Client

from swaps import game
from swaps.models import Hint, Player
from swaps.services import hints, play
from swaps.services import swaps as swaps_services
from tests.swaps.playing import join, url

pytestmark = pytest.mark.usefixtures("fresh_cache")


def ask_hint(client: Client, swap, identity: int):
    return client.post(url("api-play-hint", swap), {"identity": identity}, content_type="application/json")


def contains(region: list[float], box: list[float]) -> bool:
    x, y, w, h = region
    return x <= box[0] and y <= box[1] and box[0] + box[2] <= x + w + 1e-9 and box[1] + box[3] <= y + h + 1e-9


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize(
    "box",
    [
        [0.23456, 0.31234, 0.04321, 0.06789],  # a small face in the middle
        [0.0, 0.0, 0.03, 0.05],  # in a corner
        [0.96, 0.93, 0.04, 0.07],  # in the other corner
        [0.4, 0.3, 0.3, 0.4],  # a large face
    ],
)
def test_a_hint_region_holds_the_face_and_is_much_larger_than_it(box, seed):
    region = list(game.hint_region(tuple(box), random.Random(seed)))
    assert contains(region, box)
    assert 0 <= region[0] and 0 <= region[1] and region[0] + region[2] <= 1 and region[1] + region[3] <= 1
    assert region[2] >= min(1, max(game.HINT_REGION_MIN, box[2] * game.HINT_REGION_FACES)) - 1e-4
    assert region[3] >= min(1, max(game.HINT_REGION_MIN, box[3] * game.HINT_REGION_FACES)) - 1e-4
    assert region != box


def test_the_region_is_placed_at_random_so_its_centre_is_not_the_face(challenge):
    box = tuple(challenge.answer_key[0]["box"])
    regions = {game.hint_region(box, random.Random(seed))[:2] for seed in range(10)}
    assert len(regions) > 5


def test_a_hint_costs_its_points_once_and_comes_back_on_reload(client, challenge):
    join(client, challenge)
    alice = challenge.answer_key[0]
    response = ask_hint(client, challenge, alice["identity"])
    assert response.status_code == 200
    body = response.json()
    assert body["charged"] is True and body["cost"] == game.HINT_COST
    assert contains(body["region"], alice["box"]) and body["region"] != alice["box"]
    assert body["state"]["player"]["score"] == -game.HINT_COST
    assert body["state"]["hints"] == [{"identity": alice["identity"], "region": body["region"]}]
    # A second tap shows the same region and charges nothing more.
    again = ask_hint(client, challenge, alice["identity"]).json()
    assert again["charged"] is False and again["region"] == body["region"]
    assert Player.objects.get().score == -game.HINT_COST and Hint.objects.count() == 1
    assert client.get(url("api-play-state", challenge)).json()["hints"] == body["state"]["hints"]


def test_the_public_board_never_shows_a_score_below_zero(client, challenge):
    join(client, challenge)
    ask_hint(client, challenge, challenge.answer_key[0]["identity"])
    client.post(
        url("api-play-guess", challenge),
        {"identity": challenge.answer_key[1]["identity"], "x": 0.99, "y": 0.99},
        content_type="application/json",
    )
    player = Player.objects.get()
    assert player.score == -game.HINT_COST - game.MISS_PENALTY
    board = client.get(url("api-play-leaderboard", challenge)).json()
    assert [(row["name"], row["score"]) for row in board] == [("Sam", 0)]
    # The ranking still uses the real score: a player at zero stays ahead of one below it.
    other = Client()
    join(other, challenge, nickname="Zero")
    assert [row["name"] for row in play.leaderboard(challenge)] == ["Zero", "Sam"]


def test_hints_are_refused_for_found_friends_finished_games_and_strangers(client, challenge):
    alice, bob = challenge.answer_key
    assert ask_hint(client, challenge, alice["identity"]).status_code == 409  # not joined
    join(client, challenge)
    x, y = alice["box"][0] + alice["box"][2] / 2, alice["box"][1] + alice["box"][3] / 2
    client.post(
        url("api-play-guess", challenge),
        {"identity": alice["identity"], "x": x, "y": y},
        content_type="application/json",
    )
    found = ask_hint(client, challenge, alice["identity"])
    assert found.status_code == 409 and "already found" in found.json()["detail"]
    assert ask_hint(client, challenge, 999999).status_code == 400
    client.post(url("api-play-give-up", challenge))
    assert ask_hint(client, challenge, bob["identity"]).status_code == 409
    assert Hint.objects.count() == 0
    swaps_services.unpublish_swap(swap=challenge)
    assert ask_hint(client, challenge, bob["identity"]).status_code == 410


def test_no_hint_once_the_tries_for_that_friend_are_used_up(client, challenge):
    join(client, challenge)
    bob = challenge.answer_key[1]
    player = Player.objects.get()
    for _ in range(game.ATTEMPTS_PER_FRIEND):
        cache.clear()
        play.make_guess(player=player, identity_id=bob["identity"], x=0.01, y=0.01)
    with pytest.raises(Exception, match="tries"):
        hints.take_hint(player=player, identity_id=bob["identity"])
