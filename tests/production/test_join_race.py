"""Idempotent join under real concurrency: a double click or five simultaneous joins make one player."""

import threading

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from rooms.models import Identity, Room
from swaps.models import Player, Swap
from tests.swaps.conftest import tiny_jpeg

pytestmark = [pytest.mark.postgres_too, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def open_challenge(host, settings, tmp_path) -> Swap:
    settings.MEDIA_ROOT = tmp_path
    room = Room.objects.create(owner=host, title="Race")
    alice = Identity.objects.create(room=room, name="Alice")
    swap = Swap(room=room, version=1, identity_ids=[alice.pk], status=Swap.Status.DONE, published=True)
    swap.image.save("result.jpg", ContentFile(tiny_jpeg()), save=False)
    swap.width, swap.height = 400, 300
    swap.answer_key = [{"identity": alice.pk, "box": [0.2, 0.3, 0.05, 0.07]}]
    swap.save()
    return swap


def race(clients: list[Client], swap: Swap, nickname: str) -> list[int]:
    """Post a join from every client at the same instant; return the statuses."""
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def one(client: Client) -> None:
        try:
            barrier.wait(10)
            response = client.post(
                reverse("api-play-join", args=[swap.share_token]),
                {"nickname": nickname},
                content_type="application/json",
            )
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=one, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def test_five_concurrent_joins_from_one_browser_make_one_player(open_challenge):
    page = Client()
    page.get(reverse("play:page", args=[open_challenge.share_token]))
    clients = []
    for _ in range(5):
        tab = Client()
        tab.cookies.load(page.cookies)  # the same browser: its cookies, no session yet
        clients.append(tab)

    statuses = race(clients, open_challenge, "Sam")

    assert sorted(statuses) == [200, 200, 200, 200, 201]
    assert Player.objects.filter(swap=open_challenge).count() == 1


def test_five_concurrent_joins_of_one_account_make_one_player(open_challenge, friend):
    clients = []
    for _ in range(5):
        tab = Client()
        tab.force_login(friend)
        clients.append(tab)

    statuses = race(clients, open_challenge, "")

    assert sorted(statuses) == [200, 200, 200, 200, 201]
    assert Player.objects.filter(swap=open_challenge, user=friend).count() == 1


def test_two_browsers_racing_for_one_nickname_get_one_each_way(open_challenge):
    statuses = race([Client(REMOTE_ADDR="198.51.100.1"), Client(REMOTE_ADDR="198.51.100.2")], open_challenge, "Sam")
    assert sorted(statuses) == [201, 409]
    assert Player.objects.filter(swap=open_challenge).count() == 1
