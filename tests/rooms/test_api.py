"""The rooms REST API: uploads with per-file outcomes, identity edits, albums, JSON errors, schema."""

import io
import zipfile

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rooms.models import Identity, Photo
from rooms.services import photos
from rooms.services import rooms as rooms_services
from tests.rooms.photos import run_queued_jobs, upload

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def api(host) -> APIClient:
    client = APIClient()
    client.force_authenticate(host)
    return client


def test_token_authentication_and_listing_shows_only_own_rooms(host, stranger, room):
    rooms_services.create_room(owner=stranger, title="Not yours")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=host).key}")
    response = client.get(reverse("api-rooms"))
    assert response.status_code == 200
    assert [r["title"] for r in response.json()] == ["Cup final"]


def test_create_room_needs_a_title(api):
    response = api.post(reverse("api-rooms"), {"title": "  "}, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] == "title: This field may not be blank."
    assert "title" in response.json()["errors"]
    response = api.post(reverse("api-rooms"), {"title": "Derby", "description": "Sunday"}, format="json")
    assert response.status_code == 201 and response.json()["title"] == "Derby"


def test_upload_reports_each_file(api, room, small_photos):
    url = reverse("api-photos", args=[room.pk])
    good = small_photos["angelina_jolie"][0]
    response = api.post(
        url,
        {"files": [upload("good.jpg", good), upload("bad.jpg", b"not an image"), upload("again.jpg", good)]},
        format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["detail"] == "1 added, 1 already uploaded, 1 rejected."
    statuses = [(r["name"], r["status"]) for r in body["results"]]
    assert statuses == [("good.jpg", "added"), ("bad.jpg", "rejected"), ("again.jpg", "duplicate")]
    added = body["results"][0]["photo"]
    assert added["status"] == "queued" and added["job"] is not None
    assert added["image_url"].endswith(reverse("rooms:photo-image", args=[room.pk, added["id"]]))
    assert "not an image" in body["results"][1]["error"]


def test_a_single_rejected_upload_is_a_400_with_its_reason(api, room):
    response = api.post(reverse("api-photos", args=[room.pk]), {"files": [upload("x.jpg", b"")]}, format="multipart")
    assert response.status_code == 400
    assert "empty" in response.json()["detail"]
    assert not Photo.objects.exists()


def test_upload_without_files_says_what_to_do(api, room):
    response = api.post(reverse("api-photos", args=[room.pk]), {}, format="multipart")
    assert response.status_code == 400
    assert "Choose at least one photo" in response.json()["detail"]


@pytest.mark.usefixtures("face_models")
def test_identity_edits_and_album_zip(api, room, small_photos):
    photos.add_photos(
        room=room,
        files=[upload(f"jolie{i}.jpg", c) for i, c in enumerate(small_photos["angelina_jolie"][:3])]
        + [upload("zuck.jpg", small_photos["mark_zuckerberg"][0])],
    )
    run_queued_jobs("photo")
    identities = api.get(reverse("api-identities", args=[room.pk])).json()
    assert sorted(i["photo_count"] for i in identities) == [1, 3]
    jolie = next(i for i in identities if i["photo_count"] == 3)
    zuck = next(i for i in identities if i["photo_count"] == 1)
    assert jolie["thumbnail_url"] and len(jolie["faces"]) == 3

    response = api.patch(
        reverse("api-identity", args=[room.pk, jolie["id"]]), {"name": " Angie ", "hidden": False}, format="json"
    )
    assert response.status_code == 200 and response.json()["display_name"] == "Angie"
    response = api.patch(reverse("api-identity", args=[room.pk, zuck["id"]]), {"hidden": True}, format="json")
    assert response.json()["hidden"] is True

    albums = api.get(reverse("api-albums", args=[room.pk])).json()
    # Hidden people get no album.
    assert [(a["name"], a["photo_count"]) for a in albums] == [("Angie", 3)]
    response = api.get(reverse("api-album-zip", args=[room.pk, jolie["id"]]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="Angie.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert len(archive.namelist()) == 3
    assert api.get(reverse("api-album-zip", args=[room.pk, zuck["id"]])).status_code == 404

    # Move a face into the other person, then merge everything back.
    face_id = jolie["faces"][0]["id"]
    response = api.post(reverse("api-face-move", args=[room.pk, face_id]), {"identity": zuck["id"]}, format="json")
    assert response.status_code == 200 and response.json()["face_count"] == 2
    response = api.post(
        reverse("api-identities-merge", args=[room.pk]), {"identities": [jolie["id"], zuck["id"]]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Angie" and response.json()["face_count"] == 4
    assert Identity.objects.filter(room=room).count() == 1


def test_merge_with_an_unknown_person_is_a_clear_400(api, room):
    one = Identity.objects.create(room=room)
    response = api.post(
        reverse("api-identities-merge", args=[room.pk]), {"identities": [one.pk, 999999]}, format="json"
    )
    assert response.status_code == 400
    assert "no longer exists" in response.json()["detail"]


def test_move_to_an_unknown_person_is_a_clear_400(api, room, small_photos):
    from rooms.models import Face

    photo = photos.add_photos(room=room, files=[upload("a.jpg", small_photos["angelina_jolie"][0])]).outcomes[0].photo
    identity = Identity.objects.create(room=room)
    face = Face.objects.create(photo=photo, identity=identity, left=0, top=0, width=5, height=5, embedding=b"\0" * 512)
    response = api.post(reverse("api-face-move", args=[room.pk, face.pk]), {"identity": 424242}, format="json")
    assert response.status_code == 400 and "not in this room" in response.json()["detail"]


def test_schema_generates_without_warnings_for_rooms_views():
    from drf_spectacular.drainage import GENERATOR_STATS, reset_generator_stats
    from drf_spectacular.generators import SchemaGenerator

    reset_generator_stats()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    problems = [m for m in [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache] if "rooms/" in m]
    assert problems == []
    assert "/api/rooms/{room_id}/photos/" in schema["paths"]
    assert "multipart/form-data" in schema["paths"]["/api/rooms/{room_id}/photos/"]["post"]["requestBody"]["content"]


def test_schema_and_docs_are_served(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/rooms/{room_id}/identities/merge/" in response.content
