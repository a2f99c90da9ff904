"""Bounded work per request and per user: lying or foreign files, quotas, too many files, precise sizes."""

import io
import struct
import threading

import pytest
from django.core.cache import cache
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from rooms.models import Photo, Room
from rooms.services import uploads
from tests.rooms.photos import upload

pytestmark = pytest.mark.usefixtures("media")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(host) -> APIClient:
    client = APIClient()
    client.force_authenticate(host)
    return client


def lying_jpeg() -> bytes:
    """Return the 632-byte JPEG whose header claims 7000x7000: libjpeg would pad it out in grey."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buffer, "JPEG", quality=50)
    data = bytearray(buffer.getvalue())
    sof = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, 7000, 7000)
    return bytes(data)


def encoded(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(buffer, fmt, **options)
    return buffer.getvalue()


def post_files(api: APIClient, room: Room, files: list) -> dict:
    response = api.post(reverse("api-photos", args=[room.pk]), {"files": files}, format="multipart")
    return {"status": response.status_code, **response.json()}


def test_a_tiny_jpeg_claiming_7000x7000_is_refused_not_decoded_grey(api, room):
    data = lying_jpeg()
    assert len(data) == 632
    body = post_files(api, room, [upload("bomb.jpg", data)])
    assert body["status"] == 400
    assert body["results"][0]["code"] == "truncated"
    assert "632 bytes cannot hold a 7000x7000 photo" in body["detail"]
    assert not Photo.objects.exists()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("drawing.eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"),
        ("picture.bmp", encoded("BMP")),
        ("anim.gif", encoded("GIF")),
        ("scan.tiff", encoded("TIFF")),
    ],
)
def test_only_jpeg_png_webp_and_heic_are_accepted(api, room, name, data):
    body = post_files(api, room, [upload(name, data, content_type="application/octet-stream")])
    assert body["status"] == 400
    assert body["detail"] == "File is not an image we can read; choose a JPEG, PNG, WebP or HEIC photo."


def test_a_file_over_the_limit_states_sizes_that_differ(api, room, settings):
    settings.MAX_UPLOAD_BYTES = 100_000
    body = post_files(api, room, [upload("big.jpg", b"\xff\xd8" + b"0" * 100_038)])
    assert body["status"] == 400
    assert body["detail"] == "File is 100,040 bytes, over the 100,000 bytes limit; upload a smaller photo."


def test_rooms_per_user_are_capped_with_a_clear_message(api, settings):
    settings.MAX_ROOMS_PER_USER = 2
    for title in ("One", "Two"):
        assert api.post(reverse("api-rooms"), {"title": title}, format="json").status_code == 201
    refused = api.post(reverse("api-rooms"), {"title": "Three"}, format="json")
    assert refused.status_code == 403
    assert (
        refused.json()["detail"] == "You have 2 rooms, the most an account can have. Delete a room to create another."
    )


def test_photos_per_room_are_capped(api, room, settings, small_photos):
    settings.MAX_PHOTOS_PER_ROOM = 1
    first, second = small_photos["angelina_jolie"][:2]
    body = post_files(api, room, [upload("a.jpg", first), upload("b.jpg", second)])
    assert [r["status"] for r in body["results"]] == ["added", "rejected"]
    assert body["results"][1]["code"] == "quota"
    assert body["results"][1]["error"] == (
        "This room already holds 1 photos, the most a room can hold; delete some to add others."
    )
    assert Photo.objects.count() == 1


def test_uploads_per_hour_are_capped_per_user(api, room, host, settings, small_photos):
    settings.MAX_UPLOADS_PER_HOUR = 2
    other_room = Room.objects.create(owner=host, title="Another")
    jpegs = small_photos["angelina_jolie"][:2] + small_photos["mark_zuckerberg"][:1]
    assert post_files(api, room, [upload("a.jpg", jpegs[0]), upload("b.jpg", jpegs[1])])["status"] == 201
    body = post_files(api, other_room, [upload("c.jpg", jpegs[2])])
    assert body["status"] == 400 and body["results"][0]["code"] == "quota"
    assert body["detail"].startswith("You have uploaded 2 photos this hour, the most allowed; try again in")


def test_more_than_100_files_is_a_json_error_on_the_api(api, room):
    files = [upload(f"{i}.jpg", b"x") for i in range(101)]
    response = api.post(reverse("api-photos", args=[room.pk]), {"files": files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"detail": "Too many files in one request: send at most 100 at a time."}


def test_more_than_100_files_is_a_message_on_the_room_page(host_client, room):
    files = [upload(f"{i}.jpg", b"x") for i in range(101)]
    page = reverse("rooms:detail", args=[room.pk])
    response = host_client.post(
        reverse("rooms:photo-upload", args=[room.pk]), {"files": files}, HTTP_REFERER=f"http://testserver{page}"
    )
    assert response.status_code == 302 and response["Location"] == f"http://testserver{page}"
    assert "Too many files in one request: send at most 100 at a time." in host_client.get(page).content.decode()
    assert not Photo.objects.exists()


def test_decoding_is_bounded_per_process(settings, monkeypatch, small_photos):
    settings.UPLOAD_DECODE_CONCURRENCY = 2
    busy, most = [0], [0]
    lock, release = threading.Lock(), threading.Event()
    original = uploads.images.load_image

    def slow_load(*args, **kwargs):
        with lock:
            busy[0] += 1
            most[0] = max(most[0], busy[0])
        release.wait(5)
        with lock:
            busy[0] -= 1
        return original(*args, **kwargs)

    monkeypatch.setattr(uploads.images, "load_image", slow_load)
    jpeg = small_photos["angelina_jolie"][0]
    threads = [
        threading.Thread(target=uploads.prepare_image, args=(upload("a.jpg", jpeg),), kwargs={"max_side": 512})
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    threading.Timer(1.0, release.set).start()
    for thread in threads:
        thread.join(30)
    assert most[0] == 2


def test_a_big_jpeg_is_decoded_at_a_reduced_scale(data_dir):
    from swaps.pipeline import images

    big = Image.open(data_dir / "crowds" / "stadium.jpg").convert("RGB").resize((6000, 4000))
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=85)
    decoded: list[tuple[int, int]] = []
    real_load = Image.Image.load

    def spy(self):
        result = real_load(self)
        decoded.append(self.size)
        return result

    import unittest.mock

    with unittest.mock.patch.object(Image.Image, "load", spy):
        rgb = images.load_image(buffer.getvalue(), max_side=1024)
    assert max(rgb.shape[:2]) == 1024
    # libjpeg decoded 1/4 of each side (1500x1000), never the 24 megapixels.
    assert decoded and max(w * h for w, h in decoded) <= 1500 * 1000
