"""Uploading friends' photos: validation before storage, duplicates, the no-face state, deletion."""

import io
import zipfile

import pytest
from PIL import Image

from crowdswap.jobs.models import Job
from rooms.models import Face, Photo, ProcessingStatus, Room
from rooms.services import albums, photos
from rooms.services import rooms as rooms_services
from swaps.pipeline import fit, traits
from tests.rooms.photos import abandon_job, run_queued_jobs, storage_files, upload

pytestmark = pytest.mark.usefixtures("media")


def test_valid_photos_are_stored_reencoded_and_queued(room, small_photos, data_dir):
    original = (data_dir / "identities" / "angelina_jolie" / "img1.jpg").read_bytes()
    report = photos.add_photos(room=room, files=[upload("jolie.jpg", original)])
    (outcome,) = report.outcomes
    assert outcome.status == "added"
    photo = outcome.photo
    assert photo.status == ProcessingStatus.QUEUED and photo.original_name == "jolie.jpg"
    assert (photo.width, photo.height) == (758, 1024)
    with photo.image.open("rb") as handle:
        stored = Image.open(io.BytesIO(handle.read()))
        assert stored.format == "JPEG" and not stored.getexif()
    job = Job.objects.get(kind="photo")
    assert job.payload == {"photo_id": photo.pk} and photo.job_id == job.pk
    assert (job.owner_id, job.group_name) == (room.owner_id, room.group_name)


def test_big_photos_are_shrunk(room, data_dir, monkeypatch):
    monkeypatch.setattr(photos, "PHOTO_MAX_SIDE", 300)
    original = (data_dir / "identities" / "angelina_jolie" / "img1.jpg").read_bytes()
    (outcome,) = photos.add_photos(room=room, files=[upload("jolie.jpg", original)]).outcomes
    assert max(outcome.photo.width, outcome.photo.height) == 300


def test_duplicate_content_is_recognised_and_not_processed_twice(room, small_photos):
    content = small_photos["angelina_jolie"][0]
    first = photos.add_photos(room=room, files=[upload("a.jpg", content), upload("a-again.jpg", content)])
    assert [o.status for o in first.outcomes] == ["added", "duplicate"]
    second = photos.add_photos(room=room, files=[upload("renamed.jpg", content)])
    (dup,) = second.outcomes
    assert dup.status == "duplicate" and dup.photo.pk == first.outcomes[0].photo.pk
    assert "already uploaded" in dup.error
    assert Photo.objects.filter(room=room).count() == 1
    assert Job.objects.filter(kind="photo").count() == 1
    assert len(storage_files()) == 1


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (b"this is a text file, not a picture", "not_an_image", "not an image"),
        (b"", "not_an_image", "empty"),
    ],
)
def test_bad_files_are_rejected_with_a_message_and_nothing_stored(room, content, code, words):
    report = photos.add_photos(room=room, files=[upload("notes.jpg", content)])
    (outcome,) = report.outcomes
    assert outcome.status == "rejected" and outcome.code == code
    assert words in outcome.error.lower() and outcome.error[0].isupper()
    assert not Photo.objects.exists() and not Job.objects.exists()
    assert storage_files() == []


def test_truncated_photo_is_rejected(room, small_photos):
    content = small_photos["angelina_jolie"][0]
    report = photos.add_photos(room=room, files=[upload("cut.jpg", content[: len(content) // 2])])
    (outcome,) = report.outcomes
    assert outcome.status == "rejected" and outcome.code == "truncated"
    assert "incomplete" in outcome.error
    assert storage_files() == [] and not Photo.objects.exists()


def test_too_large_file_is_rejected_before_reading(room, small_photos, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    report = photos.add_photos(room=room, files=[upload("big.jpg", small_photos["angelina_jolie"][0])])
    (outcome,) = report.outcomes
    assert outcome.status == "rejected" and outcome.code == "too_large"
    assert "limit" in outcome.error
    assert storage_files() == []


def test_too_many_pixels_is_rejected(room, settings):
    settings.MAX_IMAGE_PIXELS = 10_000
    buffer = io.BytesIO()
    Image.new("RGB", (200, 200), (120, 90, 60)).save(buffer, format="PNG")
    (outcome,) = photos.add_photos(room=room, files=[upload("wide.png", buffer.getvalue())]).outcomes
    assert outcome.status == "rejected" and outcome.code == "too_many_pixels"
    assert storage_files() == []


def test_one_bad_file_does_not_stop_the_good_ones(room, small_photos):
    files = [upload("bad.jpg", b"nope"), upload("good.jpg", small_photos["angelina_jolie"][0])]
    report = photos.add_photos(room=room, files=files)
    assert [o.status for o in report.outcomes] == ["rejected", "added"]
    assert Photo.objects.count() == 1


@pytest.mark.usefixtures("face_models")
def test_a_photo_without_a_face_is_a_clear_state(room, no_face_jpeg):
    photos.add_photos(room=room, files=[upload("shoulder.jpg", no_face_jpeg)])
    (job,) = run_queued_jobs("photo")
    photo = Photo.objects.get()
    assert photo.status == ProcessingStatus.FAILED
    assert photo.error.startswith("No face found in this photo.")
    assert job.status == Job.Status.DONE and job.result["faces"] == 0
    assert not Face.objects.exists() and not room.identities.exists()


@pytest.mark.postgres_too
@pytest.mark.usefixtures("face_models")
def test_deleting_a_room_leaves_no_file(room, small_photos, django_capture_on_commit_callbacks):
    from swaps.services import crowds

    photos.add_photos(room=room, files=[upload(f"{i}.jpg", c) for i, c in enumerate(small_photos["angelina_jolie"])])
    crowds.add_crowd_photos(room=room, files=[upload("crowd.jpg", small_photos["jennifer_aniston"][0])])
    run_queued_jobs()
    other = rooms_services.create_room(owner=room.owner, title="Keep me")
    photos.add_photos(room=other, files=[upload("keep.jpg", small_photos["mark_zuckerberg"][0])])
    kept = storage_files(f"rooms/{other.pk}")
    assert len(kept) == 1
    assert Face.objects.filter(photo__room=room).count() == 4
    # Photos, face thumbnails and the crowd image: 4 + 4 + 1.
    assert len(storage_files(f"rooms/{room.pk}")) == 9

    with django_capture_on_commit_callbacks(execute=True):
        rooms_services.delete_room(room=room)
    assert not Room.objects.filter(pk=room.pk).exists()
    assert storage_files() == kept


@pytest.mark.postgres_too
def test_deleting_a_photo_removes_its_files_and_faces(room, small_photos, django_capture_on_commit_callbacks):
    photos.add_photos(room=room, files=[upload("a.jpg", small_photos["angelina_jolie"][0])])
    photo = Photo.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        photos.delete_photo(photo=photo)
    assert storage_files() == [] and not Photo.objects.exists()


def test_album_zip_streams_every_photo_of_a_person(room, small_photos):
    from rooms.models import Identity

    stored = [
        photos.add_photos(room=room, files=[upload(f"a{i}.jpg", c)]).outcomes[0].photo
        for i, c in enumerate(small_photos["angelina_jolie"][:3])
    ]
    identity = Identity.objects.create(room=room, name="Angie")
    for photo in stored[:2]:
        Face.objects.create(photo=photo, identity=identity, left=0, top=0, width=10, height=10, embedding=b"\0" * 512)
    chunks = list(albums.stream_album_zip(albums.album_photos(identity), chunk_size=4096))
    # Streamed in many pieces, not built whole in memory.
    assert len(chunks) > 3
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert archive.testzip() is None
    assert len(archive.namelist()) == 2
    for name, photo in zip(sorted(archive.namelist()), stored[:2], strict=True):
        with photo.image.open("rb") as handle:
            assert archive.read(name) == handle.read()
    assert albums.album_zip_name(identity) == "Angie.zip"


def test_a_photo_whose_worker_died_on_the_last_attempt_is_failed_by_the_sweep(room, small_photos, host_client):
    from crowdswap.jobs import engine

    photos.add_photos(room=room, files=[upload("a.jpg", small_photos["angelina_jolie"][0])])
    photo = Photo.objects.get()
    Photo.objects.filter(pk=photo.pk).update(status=ProcessingStatus.PROCESSING)
    abandon_job(photo.job_id)

    assert engine.sweep(requeue_after=60, attempts_limit=1) == 1

    photo.refresh_from_db()
    assert (photo.status, photo.error) == (ProcessingStatus.FAILED, photos.FAILED_MESSAGE)
    body = host_client.get(f"/api/rooms/{room.pk}/photos/{photo.pk}/").json()
    assert body["retryable"] is True
    page = host_client.get(f"/rooms/{room.pk}/").content.decode()
    assert f'action="/jobs/{photo.job_id}/retry/"' in page and f'value="/rooms/{room.pk}/#photo-{photo.pk}"' in page


def test_found_faces_store_their_look_and_expression(room, small_photos, face_models):
    """The swap form weighs fits from stored faces alone: detection keeps each face's look and expression."""
    photos.add_photos(room=room, files=[upload("zuck.jpg", small_photos["mark_zuckerberg"][0])])
    run_queued_jobs("photo")
    (face,) = Face.objects.filter(photo__room=room)
    for key in ("masculine", "child", "skin_l", "lipstick", "glasses", "expr_mouth_open", "expr_smile", "expr_yaw"):
        assert key in face.quality, key
    assert face.quality["masculine"] > 0.5 and face.quality["child"] < fit.CHILD_LOOK
    assert traits.is_current(face.quality)  # a swap does not read it again
    assert face.to_pipeline().quality == face.quality  # what the fit reads
