"""What a guess costs: a bounded number of queries whatever the crowd, one-query ranks, coalesced live pushes."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from swaps.models import Player
from swaps.services import play

# Session, swap, player; in the transaction: locked player, their guesses, insert, update; friends' names and
# faces; the player's hints; the rank and the reveal's crowd photo once finished; the leaderboard push's cache
# check. Savepoints count too under the test runner.
GUESS_MAX_QUERIES = 14


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def add_players(swap, count: int) -> None:
    """Add players with mixed scores, some finished, as a busy challenge has."""
    now = timezone.now()
    Player.objects.bulk_create(
        [
            Player(
                swap=swap,
                nickname=f"p{i}",
                session_key=f"session-{i}",
                score=(i * 37) % 250 - 40,
                hits=i % 3,
                finished_at=now if i % 4 == 0 else None,
            )
            for i in range(count)
        ]
    )


def guess(client: Client, swap, identity: int, x: float, y: float):
    return client.post(
        reverse("api-play-guess", args=[swap.share_token]),
        {"identity": identity, "x": x, "y": y},
        content_type="application/json",
    )


def queries_of_a_finishing_game(swap, django_assert_max_num_queries, django_capture_on_commit_callbacks) -> list:
    """Play a whole game (3 misses on Alice, a hit on Bob) counting each guess's queries, pushes included."""
    client = Client()
    client.post(reverse("api-play-join", args=[swap.share_token]), {"nickname": "Sam"}, content_type="application/json")
    alice, bob = swap.answer_key
    clicks = [(alice["identity"], 0.99, 0.01)] * 3 + [(bob["identity"], bob["box"][0] + 0.01, bob["box"][1] + 0.01)]
    counts = []
    for identity, x, y in clicks:
        cache.delete_many([f"play-guess-rate:{p}" for p in Player.objects.values_list("pk", flat=True)])
        with django_assert_max_num_queries(GUESS_MAX_QUERIES) as captured:
            with django_capture_on_commit_callbacks(execute=True):
                response = guess(client, swap, identity, x, y)
        assert response.status_code == 200, response.content
        counts.append(len(captured))
    assert response.json()["state"]["player"]["finished"] is True
    return counts


def test_a_guess_costs_the_same_few_queries_with_one_or_three_hundred_players(
    challenge, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    alone = queries_of_a_finishing_game(challenge, django_assert_max_num_queries, django_capture_on_commit_callbacks)
    Player.objects.all().delete()
    cache.clear()
    add_players(challenge, 300)
    crowded = queries_of_a_finishing_game(challenge, django_assert_max_num_queries, django_capture_on_commit_callbacks)
    assert crowded == alone


def reference_ranking(swap) -> list[int]:
    """Rank every player in Python, by the rules: score, then time taken, then who joined first."""
    now = timezone.now()
    players = list(Player.objects.filter(swap=swap))
    players.sort(key=lambda p: (-p.score, p.seconds_played(now), p.pk))
    return [p.pk for p in players]


def test_rank_and_leaderboard_agree_with_ranking_everybody(challenge):
    add_players(challenge, 60)
    now = timezone.now()
    # Ties on score broken by time taken: finished quickly, finished slowly, still playing since long ago.
    for number, (started, finished) in enumerate([(30, 20), (30, 5), (600, None), (5, None)]):
        Player.objects.create(
            swap=challenge,
            nickname=f"tie{number}",
            session_key=f"tie-{number}",
            score=80,
            finished_at=now - timedelta(seconds=finished) if finished is not None else None,
        )
        Player.objects.filter(nickname=f"tie{number}").update(started_at=now - timedelta(seconds=started))
    expected = reference_ranking(challenge)

    ranks = {player.pk: play.rank_of(player) for player in Player.objects.filter(swap=challenge)}
    assert sorted(ranks, key=ranks.get) == expected
    assert sorted(ranks.values()) == list(range(1, len(expected) + 1))
    board = play.leaderboard(challenge)
    names = dict(Player.objects.values_list("pk", "nickname"))
    assert [row["name"] for row in board] == [names[pk] for pk in expected[: play.LEADERBOARD_SIZE]]
    assert [row["rank"] for row in board] == list(range(1, play.LEADERBOARD_SIZE + 1))


def test_leaderboard_pushes_are_coalesced_to_one_nudge_per_interval(challenge, monkeypatch):
    layer = get_channel_layer()
    watcher = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(challenge.leaderboard_group, watcher)
    interval = play.LEADERBOARD_PUSH_INTERVAL_SECONDS
    moments = iter([1000 * interval + interval * 0.1, 1000 * interval + interval * 0.9, 1001 * interval])
    # Only the game module's clock moves by hand; the channel layer keeps the real one.
    monkeypatch.setattr(play, "time", SimpleNamespace(time=lambda: next(moments)))

    for _ in range(3):
        play.push_leaderboard(challenge)

    first = async_to_sync(layer.receive)(watcher)
    second = async_to_sync(layer.receive)(watcher)
    # Two changes in one interval: one nudge, to read when it ends; the next interval gets its own.
    assert first == {"type": "leaderboard.changed", "read_at": 1001 * interval}
    assert second == {"type": "leaderboard.changed", "read_at": 1002 * interval}
    assert not layer.channels.get(watcher)
