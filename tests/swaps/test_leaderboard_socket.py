"""The leaderboard socket: everyone on a published challenge gets live names and scores; closed ones refuse."""

import pytest
from asgiref.sync import sync_to_async
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.urls import path, reverse

from swaps.consumers import LeaderboardConsumer
from swaps.services import swaps as swaps_services

pytestmark = [pytest.mark.django_db(transaction=True)]

app = AuthMiddlewareStack(URLRouter([path("ws/play/<str:token>/", LeaderboardConsumer.as_asgi())]))


def socket_for(client: Client | None, token: str) -> WebsocketCommunicator:
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    session = client.cookies.get(settings.SESSION_COOKIE_NAME) if client else None
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session.value}".encode()))
    return WebsocketCommunicator(app, f"/ws/play/{token}/", headers=headers)


async def test_players_see_the_leaderboard_change_live(challenge):
    watcher = socket_for(None, challenge.share_token)
    connected, _ = await watcher.connect(timeout=10)
    assert connected
    assert await watcher.receive_json_from(timeout=10) == {"type": "leaderboard", "entries": []}
    player = Client()
    await sync_to_async(player.post)(reverse("api-play-join", args=[challenge.share_token]), {"nickname": "Sam"})
    message = await watcher.receive_json_from(timeout=10)
    assert [(e["name"], e["score"]) for e in message["entries"]] == [("Sam", 0)]
    await watcher.disconnect()


async def test_closed_challenge_refuses_everyone_but_its_host(challenge, host):
    await sync_to_async(swaps_services.unpublish_swap)(swap=challenge)
    anonymous = socket_for(None, challenge.share_token)
    connected, code = await anonymous.connect(timeout=10)
    assert not connected and code == 4404
    host_client = Client()
    await sync_to_async(host_client.force_login)(host)
    own = socket_for(host_client, challenge.share_token)
    connected, _ = await own.connect(timeout=10)
    assert connected
    await own.disconnect()
    unknown = socket_for(None, "not-a-token")
    assert (await unknown.connect(timeout=10))[0] is False
