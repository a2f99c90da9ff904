"""The reveal: each friend's crowd face after and before the swap, cut on the server, for finished players only."""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from swaps import game
from swaps.models import CrowdPhoto
from swaps.services import crowds
from swaps.services import swaps as swaps_services
from tests.swaps.conftest import tiny_jpeg

pytestmark = pytest.mark.usefixtures("fresh_cache")

RESULT_RGB = (200, 40, 40)
CROWD_RGB = (40, 40, 200)


@pytest.fixture
def revealable(challenge):
    """The challenge, with a result and an original crowd photo of the same size in two colours."""
    size = (challenge.width, challenge.height)
    challenge.image.save("result-red.jpg", ContentFile(tiny_jpeg(RESULT_RGB, size)), save=False)
    challenge.width, challenge.height = size  # set after the file: assigning one resets them
    crowd = CrowdPhoto(room=challenge.room, sha256="crowd", original_name="crowd.jpg", status="done")
    crowd.image.save("crowd-blue.jpg", ContentFile(tiny_jpeg(CROWD_RGB, size)), save=False)
    crowd.width, crowd.height = size
    crowd.save()
    challenge.crowd_photo = crowd
    challenge.save()
    return challenge


pytestmark = pytest.mark.usefixtures("fresh_cache")


def crop_url(swap, identity: int, which: str) -> str:
    return reverse("play:reveal", args=[swap.share_token, identity, which])


def join(client: Client, swap, nickname: str = "Sam") -> None:
    response = client.post(
        reverse("api-play-join", args=[swap.share_token]), {"nickname": nickname}, content_type="application/json"
    )
    assert response.status_code == 201


def give_up(client: Client, swap) -> dict:
    return client.post(reverse("api-play-give-up", args=[swap.share_token])).json()


def picture(response) -> Image.Image:
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    return Image.open(io.BytesIO(response.content)).convert("RGB")


def test_crops_are_refused_until_this_player_has_finished(client, revealable):
    alice = revealable.answer_key[0]["identity"]
    for which in ("after", "before"):
        assert client.get(crop_url(revealable, alice, which)).status_code == 403
    join(client, revealable)
    for which in ("after", "before"):
        assert client.get(crop_url(revealable, alice, which)).status_code == 403
    state = client.get(reverse("api-play-state", args=[revealable.share_token])).json()
    assert state["reveal"] is None
    # Another browser that finished does not open them for this one.
    other = Client()
    join(other, revealable, nickname="Alex")  # nicknames are unique per challenge
    give_up(other, revealable)
    assert other.get(crop_url(revealable, alice, "after")).status_code == 200
    assert client.get(crop_url(revealable, alice, "after")).status_code == 403


def test_a_finished_player_gets_each_face_after_and_before_the_swap(client, revealable):
    join(client, revealable)
    state = give_up(client, revealable)
    assert [card["identity"] for card in state["reveal"]] == revealable.hidden_identity_ids()
    for card, entry in zip(state["reveal"], revealable.answer_key, strict=True):
        assert card["before"] is True
        x, y, w, h = card["outline"]
        # The face sits inside its crop, framed by some crowd around it.
        assert 0 < x < 1 and 0 < y < 1 and x + w < 1 and y + h < 1 and w < 0.8
        after = picture(client.get(crop_url(revealable, entry["identity"], "after")))
        before = picture(client.get(crop_url(revealable, entry["identity"], "before")))
        assert after.size == before.size and after.width == after.height
        assert max(after.size) <= 480
        # The after crop comes from the published result, the before crop from the original crowd photo.
        assert after.getpixel((after.width // 2, after.height // 2))[0] > 150
        assert before.getpixel((before.width // 2, before.height // 2))[2] > 150


def test_crop_geometry_frames_the_face_and_stays_inside_the_picture():
    for box in ([0.5, 0.5, 0.05, 0.07], [0.0, 0.0, 0.05, 0.05], [0.97, 0.95, 0.03, 0.05]):
        x0, y0, x1, y1 = game.reveal_crop(tuple(box), 4000, 3000)
        assert 0 <= x0 < x1 <= 4000 and 0 <= y0 < y1 <= 3000 and x1 - x0 == y1 - y0
        left, top = box[0] * 4000, box[1] * 3000
        assert x0 <= left and y0 <= top and left + box[2] * 4000 <= x1 and top + box[3] * 3000 <= y1


def test_unknown_friends_sides_and_closed_challenges_get_404(client, revealable):
    join(client, revealable)
    give_up(client, revealable)
    alice = revealable.answer_key[0]["identity"]
    assert client.get(crop_url(revealable, 999999, "after")).status_code == 404
    assert client.get(crop_url(revealable, alice, "sideways")).status_code == 404
    swaps_services.unpublish_swap(swap=revealable)
    assert client.get(crop_url(revealable, alice, "after")).status_code == 404


def test_without_the_original_crowd_photo_only_the_after_side_is_offered(client, revealable):
    crowds.delete_crowd_photo(crowd_photo=revealable.crowd_photo)
    join(client, revealable)
    state = give_up(client, revealable)
    assert {card["before"] for card in state["reveal"]} == {False}
    alice = revealable.answer_key[0]["identity"]
    assert client.get(crop_url(revealable, alice, "after")).status_code == 200
    assert client.get(crop_url(revealable, alice, "before")).status_code == 404


def test_the_before_side_of_a_rerendered_picture_shows_the_same_face_in_the_crowd_photo(client, swapped):
    # The published picture is cropped and resampled as a whole (a diff must not point at the faces), so it no
    # longer matches the crowd photo pixel for pixel; the key remembers where each face was in the crowd photo.
    import numpy as np

    from rooms.services.uploads import read_stored_rgb

    swap = swapped
    swaps_services.publish_swap(swap=swap)
    assert (swap.width, swap.height) != (swap.crowd_photo.width, swap.crowd_photo.height)
    join(client, swap)
    state = give_up(client, swap)
    assert all(card["before"] for card in state["reveal"])
    crowd_rgb = read_stored_rgb(swap.crowd_photo.image)
    for entry in swap.answer_key:
        response = client.get(crop_url(swap, entry["identity"], "before"))
        before = np.asarray(picture(response), dtype=float)
        x0, y0, x1, y1 = game.reveal_crop(
            game.as_box(entry["crowd_box"]), swap.crowd_photo.width, swap.crowd_photo.height
        )
        expected = np.asarray(Image.fromarray(crowd_rgb[y0:y1, x0:x1]).resize(before.shape[1::-1]), dtype=float)
        # The same stretch of the crowd photo (up to JPEG noise), not a neighbouring one.
        assert np.abs(before - expected).mean() < 8
