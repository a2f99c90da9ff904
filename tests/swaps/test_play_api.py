"""The play API: joining, judged guesses (hit, miss, tolerance, attempts), finishing, sessions, rate limit."""

import pytest
from django.test import Client
from django.urls import reverse

from swaps import game
from swaps.models import Guess, Player
from swaps.services import play
from swaps.services import swaps as swaps_services
from tests.swaps.playing import centre, guess, join, url

pytestmark = pytest.mark.usefixtures("fresh_cache")


def test_guest_joins_with_a_nickname_and_reloading_resumes(client, challenge):
    assert join(client, challenge, nickname="  ").status_code == 400
    response = join(client, challenge, nickname="Sam")
    assert response.status_code == 201
    assert response.json()["player"]["name"] == "Sam"
    again = join(client, challenge, nickname="Other name")
    assert again.status_code == 200 and again.json()["player"]["name"] == "Sam"
    state = client.get(url("api-play-state", challenge)).json()
    assert state["player"]["name"] == "Sam" and state["answers"] is None
    assert [f["name"] for f in state["friends"]] == ["Alice", "Bob"]
    assert Player.objects.count() == 1


def test_signed_in_player_plays_under_their_name_once(client, friend, challenge):
    client.force_login(friend)
    assert join(client, challenge, nickname="ignored").json()["player"]["name"] == "friend"
    assert join(client, challenge).status_code == 200
    assert Player.objects.get().user == friend


def test_hit_scores_points_with_time_bonus_and_marks_the_friend_found(client, challenge):
    join(client, challenge)
    alice = challenge.answer_key[0]
    response = guess(client, challenge, alice["identity"], *centre(alice["box"]))
    body = response.json()
    assert response.status_code == 200 and body["hit"] is True
    assert game.HIT_POINTS < body["points"] <= game.HIT_POINTS + game.TIME_BONUS_MAX
    found = {f["identity"]: f["found"] for f in body["state"]["friends"]}
    assert found == {alice["identity"]: True, challenge.answer_key[1]["identity"]: False}
    assert body["state"]["player"]["score"] == body["points"] and body["state"]["answers"] is None
    # A found friend cannot be guessed again.
    assert guess(client, challenge, alice["identity"], 0.9, 0.9).status_code == 409


def test_miss_costs_points_and_says_where_the_player_clicked(client, challenge):
    join(client, challenge)
    bob = challenge.answer_key[1]
    body = guess(client, challenge, bob["identity"], 0.05, 0.05).json()
    assert body["hit"] is False and body["points"] == -game.MISS_PENALTY
    assert body["attempts_left"] == game.ATTEMPTS_PER_FRIEND - 1
    assert body["state"]["guesses"] == [
        {"identity": bob["identity"], "x": 0.05, "y": 0.05, "hit": False, "points": -game.MISS_PENALTY}
    ]


def test_tolerance_edge_counts_just_inside_and_refuses_just_outside(client, challenge):
    join(client, challenge)
    alice = challenge.answer_key[0]
    left, top, width, height = alice["box"]
    margin = max(width * game.TOLERANCE_FRACTION, game.TOLERANCE_FLOOR)
    y = top + height / 2
    assert guess(client, challenge, alice["identity"], left - margin - 0.001, y).json()["hit"] is False
    assert guess(client, challenge, alice["identity"], left - margin + 0.0005, y).json()["hit"] is True


def test_attempts_run_out_then_the_game_finishes_and_reveals(client, challenge):
    join(client, challenge)
    alice, bob = challenge.answer_key
    for _ in range(game.ATTEMPTS_PER_FRIEND):
        assert guess(client, challenge, alice["identity"], 0.99, 0.01).json()["hit"] is False
    refused = guess(client, challenge, alice["identity"], *centre(alice["box"]))
    assert refused.status_code == 409 and "tries" in refused.json()["detail"]
    last = guess(client, challenge, bob["identity"], *centre(bob["box"])).json()
    assert last["hit"] is True and last["state"]["player"]["finished"] is True
    assert last["state"]["answers"] == [{"identity": e["identity"], "box": e["box"]} for e in challenge.answer_key]
    assert last["state"]["rank"] == 1
    player = Player.objects.get()
    assert (player.hits, player.misses) == (1, game.ATTEMPTS_PER_FRIEND)
    assert player.score == sum(Guess.objects.values_list("points", flat=True))


def test_no_guess_after_finishing_or_on_a_closed_challenge(client, challenge):
    join(client, challenge)
    alice = challenge.answer_key[0]
    state = client.post(url("api-play-give-up", challenge)).json()
    assert state["player"]["gave_up"] is True and state["answers"] is not None
    finished = guess(client, challenge, alice["identity"], *centre(alice["box"]))
    assert finished.status_code == 409 and "finished" in finished.json()["detail"]

    other = Client()
    join(other, challenge, nickname="Kim")
    swaps_services.unpublish_swap(swap=challenge)
    closed = guess(other, challenge, alice["identity"], *centre(alice["box"]))
    assert closed.status_code == 410 and closed.json()["detail"] == play.CLOSED_MESSAGE
    assert join(Client(), challenge).status_code == 410
    assert Guess.objects.count() == 0


def test_a_session_cannot_guess_for_another_players_game(client, challenge):
    join(client, challenge, nickname="Sam")
    intruder = Client()
    alice = challenge.answer_key[0]
    response = guess(intruder, challenge, alice["identity"], *centre(alice["box"]))
    assert response.status_code == 409 and "Join the game first" in response.json()["detail"]
    # Extra fields naming another player are ignored: the player always comes from the session.
    join(intruder, challenge, nickname="Kim")
    sam = Player.objects.get(nickname="Sam")
    intruder.post(
        url("api-play-guess", challenge),
        {"identity": alice["identity"], "x": 0.5, "y": 0.5, "player": sam.pk},
        content_type="application/json",
    )
    assert sam.guesses.count() == 0 and Player.objects.get(nickname="Kim").guesses.count() == 1


def test_guesses_are_rate_limited_per_player(client, challenge):
    join(client, challenge)
    alice, bob = challenge.answer_key
    targets = [alice["identity"]] * game.ATTEMPTS_PER_FRIEND + [bob["identity"]] * game.ATTEMPTS_PER_FRIEND
    codes = [guess(client, challenge, identity, 0.99, 0.99).status_code for identity in targets]
    assert codes[: play.GUESS_RATE_LIMIT] == [200] * play.GUESS_RATE_LIMIT
    assert codes[play.GUESS_RATE_LIMIT] == 429
    assert Guess.objects.count() == play.GUESS_RATE_LIMIT
    # Another player is not slowed down by this one.
    other = Client()
    join(other, challenge, nickname="Kim")
    assert guess(other, challenge, alice["identity"], 0.99, 0.99).status_code == 200


def test_leaderboard_ranks_by_score_then_time_and_shows_names_and_scores(client, challenge):
    join(client, challenge, nickname="Sam")
    alice = challenge.answer_key[0]
    guess(client, challenge, alice["identity"], *centre(alice["box"]))
    other = Client()
    join(other, challenge, nickname="Kim")
    rows = client.get(url("api-play-leaderboard", challenge)).json()
    assert [(r["rank"], r["name"]) for r in rows] == [(1, "Sam"), (2, "Kim")]
    assert set(rows[0]) == {"rank", "name", "kind", "score", "hits", "finished", "seconds"}
    assert [r["kind"] for r in rows] == ["guest", "guest"]


def test_unknown_token_is_404(client, challenge):
    assert client.get(reverse("api-play-state", args=["nope"])).status_code == 404
