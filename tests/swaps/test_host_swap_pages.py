"""The host's swap page: start a version, follow it, share it; strangers see nothing."""

from django.urls import reverse

from swaps.models import CrowdPhoto, Swap
from swaps.services import swaps as swaps_services
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

    for n, identity in enumerate(room.identities.order_by("pk")):
        identity.name = f"Friend {n + 1}"  # named, so sharing needs no second thought
        identity.save()
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


def crowd_with_hosts(room, name: str, hosts: int, size: int = 50) -> CrowdPhoto:
    """A processed crowd photo whose faces (`size` px) can host `hosts` friends (plus one that cannot)."""
    from django.core.files.base import ContentFile

    from swaps.models import CrowdFace
    from tests.swaps.conftest import tiny_jpeg

    crowd = CrowdPhoto(room=room, sha256=name, original_name=name, status="done")
    crowd.image.save(name, ContentFile(tiny_jpeg()), save=False)
    crowd.width, crowd.height = 400, 300
    crowd.save()
    for i in range(hosts + 1):
        CrowdFace.objects.create(
            crowd_photo=crowd, left=10 * i, top=10, width=size, height=size, embedding=b"", can_host=i < hosts
        )
    return crowd


def test_how_many_friends_a_crowd_can_host_follows_the_difficulty(client, host, room, media):
    # Faces of 40 px can take a friend at Medium and Hard (36 px and more), not at Easy (48 px): the form counts each,
    # and a start at Easy is refused with the reason.
    client.force_login(host)
    crowd = crowd_with_hosts(room, "forty.jpg", 3, size=40)
    (ann,) = friends_with_faces(room, ["Ann"])
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert 'data-hosts="3" data-hosts-easy="0" data-hosts-medium="3" data-hosts-hard="3"' in page
    assert "forty.jpg — can host 3" in page and "This crowd can host 3 friends." in page
    html = start_page(client, room, {"crowd": crowd.pk, "identities": [ann.pk], "difficulty": "easy"})
    assert "No face in this crowd photo is large and front-facing enough to take a friend at this difficulty" in html
    # The form opens at the host's last difficulty, and counts for it.
    assert form_state(html)["hosts"] == 0 and "This crowd can host 0 friends." in html
    assert not Swap.objects.exists()


def start_page(client, room, choice: dict) -> str:
    """Post the swap form's start and return the page it lands on."""
    return client.post(reverse("swaps:swap-start", args=[room.pk]), choice, follow=True).content.decode()


def friends_with_faces(room, names: list[str]) -> list:
    from rooms.models import Face, Identity
    from tests.swaps.test_play_pages import add_face

    people = []
    for name in names:
        identity = Identity.objects.create(room=room, name=name)
        add_face(identity, f"{name or 'anon'}-{identity.pk}")
        Face.objects.filter(identity=identity).update(usable=True)
        people.append(identity)
    return people


def form_state(html: str) -> dict:
    import re

    crowd = re.search(r'<option value="(\d+)" data-hosts="(\d+)"[^>]*selected>', html)
    ticked = re.findall(r'name="identities" value="(\d+)" checked', html)
    difficulty = re.search(r'<option value="(\w+)" selected>(Easy|Medium|Hard)</option>', html)
    return {
        "crowd": int(crowd.group(1)),
        "hosts": int(crowd.group(2)),
        "ticked": [int(i) for i in ticked],
        "difficulty": difficulty.group(1),
    }


def test_the_form_defaults_to_the_crowd_that_hosts_most_and_keeps_the_hosts_choices(client, host, room, media):
    client.force_login(host)
    small = crowd_with_hosts(room, "small.jpg", 1)
    big = crowd_with_hosts(room, "big.jpg", 3)
    crowd_with_hosts(room, "newest.jpg", 2)  # the newest is not the best
    ann, bob, cat = friends_with_faces(room, ["Ann", "Bob", "Cat"])
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    state = form_state(page)
    assert (state["crowd"], state["hosts"], state["difficulty"]) == (big.pk, 3, "medium")
    # Only friends who fit the crowd well are ticked: these made-up faces carry no embedding to weigh
    # (tests/swaps/test_fit_in_the_app.py ticks real friends on real crowds).
    assert state["ticked"] == []
    assert page.count('class="badge fit-poor">Poor fit</span>') == 3
    assert 'data-hosts="1"' in page and "This crowd can host 3 friends." in page

    # A refused start on the small crowd with one friend, hard: the form shows those choices again.
    html = start_page(client, room, {"crowd": small.pk, "identities": [bob.pk], "difficulty": "hard"})
    assert "Nobody you chose fits a face in this crowd" in html and not Swap.objects.exists()
    assert form_state(html) == {"crowd": small.pk, "hosts": 1, "ticked": [bob.pk], "difficulty": "hard"}

    # Another refusal keeps the choices too, with the reason.
    html = start_page(client, room, {"crowd": small.pk, "identities": [ann.pk, cat.pk], "difficulty": "easy"})
    assert "can host a friend" in html and not Swap.objects.exists()
    assert form_state(html) == {"crowd": small.pk, "hosts": 1, "ticked": [ann.pk, cat.pk], "difficulty": "easy"}

    # A version says which crowd and which friends, and how hard.
    Swap.objects.create(room=room, crowd_photo=small, version=1, identity_ids=[bob.pk], difficulty="hard")
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert "small.jpg" in page and '<strong class="version-friends">Bob</strong>' in page
    assert 'class="badge difficulty-hard">Hard</span>' in page


def test_sharing_a_version_that_hides_an_unnamed_person_asks_first(client, host, challenge):
    from rooms.models import Identity

    client.force_login(host)
    swaps_services.unpublish_swap(swap=challenge)
    bob = Identity.objects.get(pk=challenge.answer_key[1]["identity"])
    bob.name = ""
    bob.save()
    room = challenge.room
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert f"{bob.display_name} has no name." in page and "Share anyway" in page

    publish = reverse("swaps:swap-action", args=[room.pk, challenge.pk, "publish"])
    refused = client.post(publish, follow=True).content.decode()
    assert "Not shared yet" in refused and bob.display_name in refused
    challenge.refresh_from_db()
    assert not challenge.published
    client.post(publish, {"anyway": "1"})
    challenge.refresh_from_db()
    assert challenge.published

    bob.name = "Bob"
    bob.save()
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    assert "has no name" not in page


def test_download_picture_saves_the_result_under_a_friendly_name(client, host, challenge):
    client.force_login(host)
    room = challenge.room
    page = client.get(reverse("swaps:swaps", args=[room.pk])).content.decode()
    url = reverse("swaps:swap-image", args=[room.pk, challenge.pk]) + "?download=1"
    assert f'href="{url}" download' in page and "Download picture" in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="cup-final-version-1.jpg"'
    shown = client.get(reverse("swaps:swap-image", args=[room.pk, challenge.pk]))
    assert "attachment" not in shown.get("Content-Disposition", "")
