"""The host's swap page: start a version, follow it, share it; strangers see nothing."""

from django.urls import reverse

from swaps.models import CrowdPhoto, Swap
from swaps.services.swaps import SWAP_JOB
from tests.rooms.photos import run_queued_jobs


def test_host_starts_a_swap_and_shares_it_from_the_page(client, host, prepared_room, settings):
    settings.SITE_URL = "https://crowdswap.example"
    client.force_login(host)
    room = prepared_room
    page = client.get(reverse("swaps:swaps", args=[room.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and html.count('name="identities"') == 2 and "Start the swap" in html
    crowd = CrowdPhoto.objects.get(room=room)
    ids = [str(i) for i in room.identities.values_list("pk", flat=True)]
    response = client.post(reverse("swaps:swap-start", args=[room.pk]), {"crowd": crowd.pk, "identities": ids})
    swap = Swap.objects.get()
    assert response.status_code == 302 and swap.job.kind == SWAP_JOB.name
    assert "Waiting for a worker" in client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    run_queued_jobs("swap")
    html = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert reverse("swaps:swap-image", args=[room.pk, swap.pk]) in html and "answer-box" in html
    assert client.get(reverse("swaps:swap-image", args=[room.pk, swap.pk])).status_code == 200

    client.post(reverse("swaps:swap-action", args=[room.pk, swap.pk, "publish"]))
    swap.refresh_from_db()
    assert swap.published
    html = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    share_url = f"https://crowdswap.example/play/{swap.share_token}/"
    assert share_url in html
    assert "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fcrowdswap.example%2Fplay%2F" in html
    assert "data-web-share" in html

    client.post(reverse("swaps:swap-action", args=[room.pk, swap.pk, "unpublish"]))
    assert not Swap.objects.get().published
    client.post(reverse("swaps:swap-action", args=[room.pk, swap.pk, "discard"]))
    assert not Swap.objects.exists()


def test_swap_refusals_are_shown_and_change_nothing(client, host, prepared_room):
    client.force_login(host)
    room = prepared_room
    crowd = CrowdPhoto.objects.get(room=room)
    crowd.faces.update(can_host=False)
    response = client.post(reverse("swaps:swap-start", args=[room.pk]), {"crowd": crowd.pk}, follow=True)
    assert "No face in this crowd photo" in response.content.decode() and not Swap.objects.exists()


def test_strangers_cannot_see_or_act_on_swaps(client, stranger, challenge):
    client.force_login(stranger)
    room = challenge.room
    assert client.get(reverse("swaps:swaps", args=[room.pk])).status_code == 404
    assert client.get(reverse("swaps:swap-image", args=[room.pk, challenge.pk])).status_code == 404
    for action in ("publish", "unpublish", "regenerate", "discard"):
        assert client.post(reverse("swaps:swap-action", args=[room.pk, challenge.pk, action])).status_code == 404
    assert Swap.objects.get().published
