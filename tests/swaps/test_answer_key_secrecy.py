"""The answer key never reaches a player's browser before they finish: HTML, API, files' URLs, WebSocket."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import path, reverse

from swaps.consumers import LeaderboardConsumer
from swaps.models import Player

pytestmark = [pytest.mark.django_db(transaction=True)]

socket_app = AuthMiddlewareStack(URLRouter([path("ws/play/<str:token>/", LeaderboardConsumer.as_asgi())]))


def secret_strings(answer_key: list[dict], width: int, height: int) -> set[str]:
    """Return every way a box's numbers could be written: fractions, rounded fractions, percentages, pixels."""
    found: set[str] = set()
    for entry in answer_key:
        x, y, w, h = entry["box"]
        for value in (x, y, w, h, x + w, y + h, x + w / 2, y + h / 2):
            found.update({repr(value), f"{value:.4f}", f"{value:.3f}", f"{value * 100:.3f}", f"{value * 100:.2f}"})
        found.update({f"{x * width:.1f}", f"{y * height:.1f}", f"{(x + w / 2) * width:.1f}"})
    return found


def leaks(text: str, secrets: set[str]) -> set[str]:
    return {secret for secret in secrets if secret in text}


def collect(client: Client, swap, received: list[str]) -> None:
    """Fetch every page and API response a player gets, appending their text."""
    token = swap.share_token
    for name in ("api-play-state", "api-play-leaderboard"):
        received.append(client.get(reverse(name, args=[token])).content.decode())
    received.append(client.get(reverse("play:page", args=[token])).content.decode())


async def socket_messages(client: Client, token: str) -> tuple[WebsocketCommunicator, list[str]]:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session.value}".encode()))
    socket = WebsocketCommunicator(socket_app, f"/ws/play/{token}/", headers=headers)
    connected, _ = await socket.connect(timeout=10)
    assert connected
    return socket, [json.dumps(await socket.receive_json_from(timeout=10))]


async def test_nothing_a_player_receives_before_finishing_contains_the_answer_boxes(challenge, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    await sync_to_async(cache.clear)()
    swap = challenge
    secrets = secret_strings(swap.answer_key, swap.width, swap.height)
    alice, bob = swap.answer_key
    client = Client()
    received: list[str] = []
    await sync_to_async(collect)(client, swap, received)
    socket, messages = await socket_messages(client, swap.share_token)

    def play_until_one_left() -> None:
        post = client.post
        received.append(post(reverse("api-play-join", args=[swap.share_token]), {"nickname": "Sam"}).content.decode())
        collect(client, swap, received)
        guess_url = reverse("api-play-guess", args=[swap.share_token])
        # A hit (clicked near the middle of the box) and a miss, then everything a reload shows.
        x, y = alice["box"][0] + alice["box"][2] * 0.4, alice["box"][1] + alice["box"][3] * 0.6
        for identity, gx, gy in ((alice["identity"], x, y), (bob["identity"], 0.02, 0.97)):
            response = post(guess_url, {"identity": identity, "x": gx, "y": gy}, content_type="application/json")
            assert response.status_code == 200
            received.append(response.content.decode())
        collect(client, swap, received)
        for identity in swap.hidden_identity_ids():
            received.append(
                client.get(reverse("play:friend-thumb", args=[swap.share_token, identity])).headers.get(
                    "Content-Type", ""
                )
            )

    await sync_to_async(play_until_one_left)()
    # The leaderboard pushed over the socket after the join and the guesses (changes close together share
    # one push), until it shows Sam's score after both guesses.
    score = await sync_to_async(lambda: Player.objects.get(nickname="Sam").score)()
    for _ in range(5):
        message = await socket.receive_json_from(timeout=10)
        messages.append(json.dumps(message))
        if [(e["name"], e["score"]) for e in message["entries"]] == [("Sam", score)]:
            break
    else:
        pytest.fail(f"the socket never showed Sam's final score {score}: {messages}")
    assert all(json.loads(m)["type"] == "leaderboard" for m in messages)

    everything = "\n".join(received + messages)
    assert "Sam" in everything and "Alice" in everything
    assert leaks(everything, secrets) == set()
    assert '"answers": null' in everything and '"box"' not in everything

    # Once the player gives up, the same search finds the boxes: the check above can fail.
    finished = await sync_to_async(client.post)(reverse("api-play-give-up", args=[swap.share_token]))
    assert leaks(finished.content.decode(), secrets)
    await socket.disconnect()
