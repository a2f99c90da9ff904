"""Media on S3 through django-storages and boto3, against moto's S3 server on 127.0.0.1.

Moto checks access (anonymous requests to private objects are refused) but not the age of a
presigned URL, so expiry is checked on the signed URL itself: its signed validity window.
"""

import urllib.error
import urllib.request
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages
from django.core.files.uploadedfile import SimpleUploadedFile
from storages.backends.s3 import S3Storage

from crowdswap.lib.files import file_url, signs_urls
from rooms.models import Photo, Room
from rooms.services.photos import add_photos
from rooms.services.rooms import delete_room
from tests.production.conftest import S3, S3_EXPIRE, S3_REGION

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture(scope="module")
def jpeg(data_dir) -> bytes:
    return (data_dir / "crowds" / "couple.jpg").read_bytes()


def fetch(url: str) -> tuple[int, bytes, dict[str, str]]:
    """GET a URL without any AWS credentials; return status, body and headers."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def signed_window(url: str) -> tuple[datetime, int]:
    """Return when a SigV4 presigned URL was signed and for how many seconds it is valid."""
    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256", "presigned URLs must use signature v4"
    assert query["X-Amz-Credential"].endswith(f"/{S3_REGION}/s3/aws4_request"), query["X-Amz-Credential"]
    assert "X-Amz-Signature" in query
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return signed_at, int(query["X-Amz-Expires"])


def test_settings_switch_media_to_a_private_s3_bucket(s3: S3):
    backend = storages["default"]
    assert isinstance(backend, S3Storage)
    assert backend.bucket_name == s3.bucket
    assert backend.endpoint_url == s3.endpoint
    assert backend.region_name == S3_REGION
    assert backend.signature_version == "s3v4"
    assert backend.default_acl is None, "uploads must not carry a (public) ACL"
    assert backend.querystring_auth is True
    assert backend.querystring_expire == S3_EXPIRE
    assert backend.file_overwrite is False
    assert signs_urls(backend)
    # Credentials stay out of settings: boto3 finds them in the standard environment variables.
    assert not s3.settings.get("AWS_ACCESS_KEY_ID") and not s3.settings.get("AWS_SECRET_ACCESS_KEY")


def test_upload_is_private_and_a_presigned_url_serves_it(s3: S3, jpeg: bytes):
    name = default_storage.save("rooms/1/photos/couple.jpg", ContentFile(jpeg))
    assert s3.keys() == [name]

    grants = s3.client.get_object_acl(Bucket=s3.bucket, Key=name)["Grants"]
    grantees = {grant["Grantee"].get("URI") for grant in grants}
    assert not grantees & {ALL_USERS, AUTHENTICATED_USERS}, grants

    status, _, _ = fetch(f"{s3.endpoint}/{s3.bucket}/{name}")
    assert status == 403, "an unsigned GET of a private object must be refused"
    # Control: the endpoint does serve anonymous GETs of an object someone made public.
    s3.client.put_object(Bucket=s3.bucket, Key="public.txt", Body=b"hello", ACL="public-read")
    assert fetch(f"{s3.endpoint}/{s3.bucket}/public.txt")[:2] == (200, b"hello")

    url = default_storage.url(name)
    status, body, _ = fetch(url)
    assert status == 200 and body == jpeg
    signed_at, lifetime = signed_window(url)
    assert lifetime == S3_EXPIRE
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 300


def test_same_name_twice_keeps_both_files(s3: S3):
    first = default_storage.save("rooms/1/photos/same.jpg", ContentFile(b"first"))
    second = default_storage.save("rooms/1/photos/same.jpg", ContentFile(b"second"))
    assert first != second
    assert s3.keys() == sorted([first, second])
    assert default_storage.open(first).read() == b"first"


def test_file_url_is_short_lived_and_names_the_download(s3: S3, host, jpeg: bytes):
    room = Room.objects.create(owner=host, title="Beach")
    photo = Photo(room=room, sha256="a" * 64, original_name="beach.jpg")
    photo.image.save("beach.jpg", ContentFile(jpeg), save=False)
    photo.width, photo.height = 10, 10  # assigning a file resets the dimension fields
    photo.save()
    assert photo.image.name.startswith(f"rooms/{room.pk}/photos/")

    url = file_url(photo.image, expires=2, download_name="Ann at the beach.jpg")
    assert url is not None
    signed_at, lifetime = signed_window(url)
    assert lifetime == 2
    status, body, headers = fetch(url)
    assert status == 200 and body == jpeg
    assert headers.get("Content-Disposition", headers.get("content-disposition", "")).startswith("attachment;")

    default_url = file_url(photo.image)
    assert default_url is not None and signed_window(default_url)[1] == S3_EXPIRE
    assert file_url(Photo(room=room).image) is None, "no file, no URL"


def test_owner_file_routes_redirect_to_a_short_lived_url(s3: S3, host, stranger, client, jpeg: bytes):
    room = Room.objects.create(owner=host, title="Beach")
    photo = Photo(room=room, sha256="c" * 64, original_name="beach.jpg")
    photo.image.save("beach.jpg", ContentFile(jpeg), save=False)
    photo.width, photo.height = 10, 10
    photo.save()
    route = f"/rooms/{room.pk}/photos/{photo.pk}/image"

    client.force_login(stranger)
    assert client.get(route).status_code == 404, "the access check comes before any URL is signed"
    client.force_login(host)
    response = client.get(route)

    # The file does not stream through the web process: the browser is sent to S3 for a few minutes.
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]
    assert signed_window(response["Location"])[1] == S3_EXPIRE
    status, body, _ = fetch(response["Location"])
    assert status == 200 and body == jpeg


def test_file_url_is_none_on_local_disk(host, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    room = Room.objects.create(owner=host, title="Beach")
    photo = Photo(room=room, sha256="b" * 64)
    photo.image.save("tiny.jpg", ContentFile(b"not really a jpeg"), save=False)
    assert not signs_urls(photo.image.storage)
    assert file_url(photo.image, expires=60) is None


def test_deleting_a_file_removes_the_object(s3: S3):
    name = default_storage.save("rooms/3/results/result.jpg", ContentFile(b"result"))
    assert default_storage.exists(name)
    default_storage.delete(name)
    assert s3.keys() == []
    assert not default_storage.exists(name)


def test_deleting_a_room_deletes_its_objects_in_the_bucket(
    s3: S3, host, jpeg: bytes, django_capture_on_commit_callbacks
):
    doomed = Room.objects.create(owner=host, title="Doomed")
    kept = Room.objects.create(owner=host, title="Kept")
    for room in (doomed, kept):
        # The real upload path: validate, re-encode, store the file and queue its processing.
        report = add_photos(room=room, files=[SimpleUploadedFile("couple.jpg", jpeg, content_type="image/jpeg")])
        assert [outcome.status for outcome in report.outcomes] == ["added"], report.outcomes
    # A file no row points at, as a swap result or a job that raced the delete would leave.
    default_storage.save(f"rooms/{doomed.pk}/results/orphan.jpg", ContentFile(b"orphan"))
    assert len([key for key in s3.keys() if key.startswith(f"rooms/{doomed.pk}/")]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        delete_room(room=doomed)

    remaining = s3.keys()
    assert remaining, "the other room's files must stay"
    assert all(key.startswith(f"rooms/{kept.pk}/") for key in remaining), remaining
