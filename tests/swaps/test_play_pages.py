"""The public play page and its files: link-preview tags, closed challenges, only the hidden friends' faces."""

import re

from django.core.files.base import ContentFile
from django.urls import reverse

from rooms.models import Face, Identity, Photo
from swaps.services import swaps as swaps_services
from tests.swaps.conftest import tiny_jpeg


def meta(html: str, key: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    assert match, f"no {key} tag"
    return match.group(1)


def add_face(identity: Identity, name: str) -> Face:
    photo = Photo(room=identity.room, sha256=name, original_name=f"{name}.jpg")
    photo.image.save(f"{name}.jpg", ContentFile(tiny_jpeg()), save=False)
    photo.width, photo.height = 400, 300
    photo.save()
    face = Face(photo=photo, identity=identity, left=1, top=1, width=50, height=50, embedding=b"")
    face.thumbnail.save(f"{name}-thumb.jpg", ContentFile(tiny_jpeg((10, 200, 10), (80, 80))), save=False)
    face.save()
    return face


def test_play_page_has_open_graph_and_twitter_tags_with_absolute_preview(client, challenge, settings):
    settings.SITE_URL = "https://crowdswap.example"
    response = client.get(reverse("play:page", args=[challenge.share_token]))
    assert response.status_code == 200
    html = response.content.decode()
    assert meta(html, "og:title") == "Can you find 2 friends in this crowd?"
    assert "Cup final" in meta(html, "og:description")
    assert meta(html, "og:url") == f"https://crowdswap.example/play/{challenge.share_token}/"
    assert meta(html, "og:image") == f"https://crowdswap.example/play/{challenge.share_token}/preview.jpg"
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "twitter:image") == meta(html, "og:image")
    assert "Alice" in html and "Bob" in html and "You have 3 tries per friend" in html


def test_preview_and_image_are_served_only_while_published(client, challenge):
    token = challenge.share_token
    preview = client.get(reverse("play:preview", args=[token]))
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    assert b"".join(preview.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(reverse("play:image", args=[token])).status_code == 200
    swaps_services.unpublish_swap(swap=challenge)
    assert client.get(reverse("play:preview", args=[token])).status_code == 404
    assert client.get(reverse("play:image", args=[token])).status_code == 404
    closed = client.get(reverse("play:page", args=[token]))
    assert closed.status_code == 410 and "This challenge is closed" in closed.content.decode()


def test_regenerated_token_retires_the_old_link(client, challenge):
    old = challenge.share_token
    swaps_services.regenerate_share_token(swap=challenge)
    assert client.get(reverse("play:page", args=[old])).status_code == 404
    assert client.get(reverse("play:page", args=[challenge.share_token])).status_code == 200


def test_thumbnails_only_of_friends_hidden_in_this_challenge(client, challenge):
    alice_id = challenge.answer_key[0]["identity"]
    alice = Identity.objects.get(pk=alice_id)
    add_face(alice, "alice")
    not_hidden = Identity.objects.create(room=challenge.room, name="Carol")
    add_face(not_hidden, "carol")
    token = challenge.share_token
    ok = client.get(reverse("play:friend-thumb", args=[token, alice_id]))
    assert ok.status_code == 200 and ok["Content-Type"] == "image/jpeg"
    assert client.get(reverse("play:friend-thumb", args=[token, not_hidden.pk])).status_code == 404
    swaps_services.unpublish_swap(swap=challenge)
    assert client.get(reverse("play:friend-thumb", args=[token, alice_id])).status_code == 404


def test_unknown_and_deleted_links_show_the_friendly_closed_page(client, challenge):
    from rooms.services import rooms as rooms_services

    unknown = client.get(reverse("play:page", args=["no-such-challenge"]))
    assert unknown.status_code == 404
    html = unknown.content.decode()
    assert "This challenge is closed" in html and "What is CrowdSwap?" in html
    token = challenge.share_token
    rooms_services.delete_room(room=challenge.room)
    deleted = client.get(reverse("play:page", args=[token]))
    assert deleted.status_code == 404 and "This challenge is closed" in deleted.content.decode()


def test_the_play_page_shows_the_hosts_difficulty(client, challenge):
    challenge.difficulty = "hard"
    challenge.save()
    html = client.get(reverse("play:page", args=[challenge.share_token])).content.decode()
    assert re.search(r'<span class="badge difficulty difficulty-hard"[^>]*>Hard</span>', html)
