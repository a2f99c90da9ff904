"""HTML pages for rooms: the host sees and changes their rooms, others get 404, anonymous users sign in."""

import pytest
from django.urls import reverse

from rooms.models import Face, Identity, Photo, Room
from rooms.services import photos
from rooms.services import rooms as rooms_services
from tests.rooms.photos import run_queued_jobs, storage_files, upload

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture
def processed_room(room, small_photos, face_models):
    photos.add_photos(
        room=room,
        files=[upload(f"jolie{i}.jpg", c) for i, c in enumerate(small_photos["angelina_jolie"][:2])]
        + [upload("zuck.jpg", small_photos["mark_zuckerberg"][0])],
    )
    run_queued_jobs("photo")
    return room


def test_room_list_shows_only_my_rooms(host_client, room, stranger):
    rooms_services.create_room(owner=stranger, title="Stranger's party")
    response = host_client.get(reverse("rooms:list"))
    assert response.status_code == 200
    assert b"Cup final" in response.content and b"Stranger&#x27;s party" not in response.content


def test_anonymous_users_are_sent_to_sign_in(client, room):
    for url in (reverse("rooms:list"), reverse("rooms:detail", args=[room.pk])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_create_room_from_the_form(host_client, host):
    response = host_client.post(reverse("rooms:list"), {"title": "Derby day", "description": ""})
    room = Room.objects.get(owner=host)
    assert response.status_code == 302 and response["Location"] == reverse("rooms:detail", args=[room.pk])
    response = host_client.post(reverse("rooms:list"), {"title": "   "})
    assert response.status_code == 400 and b"Give the room a title." in response.content


@pytest.mark.postgres_too
def test_rename_and_delete_room(host_client, room, small_photos, django_capture_on_commit_callbacks):
    photos.add_photos(room=room, files=[upload("a.jpg", small_photos["angelina_jolie"][0])])
    host_client.post(reverse("rooms:update", args=[room.pk]), {"title": "Final", "description": "at the stadium"})
    room.refresh_from_db()
    assert (room.title, room.description) == ("Final", "at the stadium")
    response = host_client.get(reverse("rooms:delete", args=[room.pk]))
    assert b"1 photo" in response.content
    with django_capture_on_commit_callbacks(execute=True):
        response = host_client.post(reverse("rooms:delete", args=[room.pk]))
    assert response.status_code == 302 and not Room.objects.exists()
    assert storage_files() == []


def test_stranger_gets_404_on_every_page_and_action(stranger_client, processed_room):
    room = processed_room
    identity = Identity.objects.filter(room=room).first()
    face = Face.objects.filter(photo__room=room).first()
    photo = Photo.objects.filter(room=room).first()
    gets = [
        reverse("rooms:detail", args=[room.pk]),
        reverse("rooms:delete", args=[room.pk]),
        reverse("rooms:albums", args=[room.pk]),
        reverse("rooms:album-zip", args=[room.pk, identity.pk]),
        reverse("swaps:crowds", args=[room.pk]),
        reverse("rooms:photo-image", args=[room.pk, photo.pk]),
        reverse("rooms:face-thumb", args=[room.pk, face.pk]),
    ]
    posts = [
        reverse("rooms:update", args=[room.pk]),
        reverse("rooms:delete", args=[room.pk]),
        reverse("rooms:photo-upload", args=[room.pk]),
        reverse("rooms:photo-delete", args=[room.pk, photo.pk]),
        reverse("rooms:identity-merge", args=[room.pk]),
        reverse("rooms:identity-rename", args=[room.pk, identity.pk]),
        reverse("rooms:identity-hide", args=[room.pk, identity.pk]),
        reverse("rooms:face-move", args=[room.pk, face.pk]),
        reverse("rooms:face-ignore", args=[room.pk, face.pk]),
        reverse("swaps:crowd-upload", args=[room.pk]),
    ]
    for url in gets:
        assert stranger_client.get(url).status_code == 404, url
    for url in posts:
        assert stranger_client.post(url, {"title": "x", "name": "x"}).status_code == 404, url
    room.refresh_from_db()
    assert room.title == "Cup final" and Photo.objects.filter(room=room).count() == 3


def test_room_page_shows_photos_states_and_people(host_client, processed_room, no_face_jpeg):
    room = processed_room
    photos.add_photos(room=room, files=[upload("shoulder.jpg", no_face_jpeg)])
    run_queued_jobs("photo")
    photos.add_photos(room=room, files=[upload("later.jpg", b"garbage")])  # rejected: not shown
    response = host_client.get(reverse("rooms:detail", args=[room.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('class="card photo-card"') == 4
    assert "1 face" in html and "No face found in this photo." in html
    assert html.count('class="card identity-card') == 2
    for face in Face.objects.filter(photo__room=room):
        assert reverse("rooms:face-thumb", args=[room.pk, face.pk]) in html
    assert "js/rooms.js" in html and "js/people.js" in html
    # The people section alone, as the page fetches it after an in-place edit.
    part = host_client.get(reverse("rooms:people", args=[room.pk])).content.decode()
    assert part.startswith('<section id="people"') and part.count('class="card identity-card') == 2


def test_identity_actions_from_the_page(host_client, processed_room):
    room = processed_room
    identities = sorted(Identity.objects.filter(room=room), key=lambda i: -i.faces.count())
    jolie, zuck = identities
    host_client.post(reverse("rooms:identity-rename", args=[room.pk, jolie.pk]), {"name": "Angie"})
    host_client.post(reverse("rooms:identity-hide", args=[room.pk, zuck.pk]), {"hidden": "1"})
    jolie.refresh_from_db()
    zuck.refresh_from_db()
    assert jolie.name == "Angie" and zuck.hidden
    response = host_client.get(reverse("rooms:albums", args=[room.pk]))
    assert b"Angie" in response.content and reverse("rooms:album-zip", args=[room.pk, zuck.pk]).encode() not in (
        response.content
    )
    host_client.post(reverse("rooms:identity-hide", args=[room.pk, zuck.pk]), {"hidden": "0"})
    zuck.refresh_from_db()
    assert not zuck.hidden

    face = jolie.faces.first()
    response = host_client.post(reverse("rooms:face-move", args=[room.pk, face.pk]), {"identity": "new"})
    assert response.status_code == 302
    face.refresh_from_db()
    assert face.identity_id not in (jolie.pk, zuck.pk) and face.pinned
    host_client.post(reverse("rooms:face-ignore", args=[room.pk, face.pk]), {"ignored": "1"})
    face.refresh_from_db()
    assert face.ignored and face.identity is None

    response = host_client.post(
        reverse("rooms:identity-merge", args=[room.pk]), {"identities": [str(jolie.pk), str(zuck.pk)]}, follow=True
    )
    assert b"Merged into Angie" in response.content
    assert list(Identity.objects.filter(room=room)) == [jolie]
    response = host_client.post(
        reverse("rooms:identity-merge", args=[room.pk]), {"identities": [str(jolie.pk)]}, follow=True
    )
    assert b"Choose at least two people to merge." in response.content


def test_plain_form_upload_reports_each_file(host_client, room, small_photos):
    response = host_client.post(
        reverse("rooms:photo-upload", args=[room.pk]),
        {"files": [upload("a.jpg", small_photos["angelina_jolie"][0]), upload("b.jpg", b"nope")]},
        follow=True,
    )
    html = response.content.decode()
    assert "1 uploaded" in html and "b.jpg: File is not an image" in html
    assert Photo.objects.filter(room=room).count() == 1


def test_album_zip_download_from_the_page(host_client, processed_room):
    room = processed_room
    identity = max(Identity.objects.filter(room=room), key=lambda i: i.faces.count())
    response = host_client.get(reverse("rooms:album-zip", args=[room.pk, identity.pk]))
    assert response.status_code == 200 and response.streaming
    assert len(b"".join(response.streaming_content)) > 1000


def test_files_are_served_to_the_owner_only(host_client, processed_room, client):
    room = processed_room
    photo = Photo.objects.filter(room=room).first()
    response = host_client.get(reverse("rooms:photo-image", args=[room.pk, photo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    assert "private" in response["Cache-Control"]
    assert client.get(f"/media/{photo.image.name}").status_code == 404
