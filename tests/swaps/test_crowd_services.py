"""Crowd photos: upload with the same validation, face detection in the worker, the hosting summary."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from crowdswap.jobs.models import Job
from rooms.models import Identity, ProcessingStatus
from rooms.services import identities, photos
from rooms.services.faces import load_face_models
from swaps.models import CrowdFace, CrowdPhoto
from swaps.pipeline import encoder
from swaps.services import crowds
from tests.rooms.photos import abandon_job, run_queued_jobs, small_jpeg, storage_files, upload

pytestmark = pytest.mark.usefixtures("media", "face_models")


@pytest.fixture(scope="module")
def couple_jpeg(data_dir) -> bytes:
    # Half size keeps both faces (350+ px) far above every threshold and detection quick.
    return small_jpeg(data_dir / "crowds" / "couple.jpg", side=1000)


@pytest.fixture(scope="module")
def stadium_jpeg(data_dir) -> bytes:
    return (data_dir / "crowds" / "stadium.jpg").read_bytes()


def test_crowd_photo_is_validated_deduplicated_and_queued(room, couple_jpeg):
    report = crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg), upload("x.jpg", b"txt")])
    assert [o.status for o in report.outcomes] == ["added", "rejected"]
    assert "not an image" in report.outcomes[1].error
    crowd = report.outcomes[0].photo
    assert crowd.status == ProcessingStatus.QUEUED and crowd.width == 1000
    assert Job.objects.get(kind="crowd").payload == {"crowd_photo_id": crowd.pk}
    again = crowds.add_crowd_photos(room=room, files=[upload("same.jpg", couple_jpeg)])
    assert again.outcomes[0].status == "duplicate"
    assert CrowdPhoto.objects.count() == 1 and len(storage_files()) == 1


def test_stadium_front_rows_can_host_friends(room, stadium_jpeg):
    crowds.add_crowd_photos(room=room, files=[upload("stadium.jpg", stadium_jpeg)])
    (job,) = run_queued_jobs("crowd")
    crowd = CrowdPhoto.objects.get()
    assert job.status == Job.Status.DONE and crowd.status == ProcessingStatus.DONE
    faces = list(crowd.faces.all())
    usable = [f for f in faces if f.can_host]
    # README: about 30 large faces in front are the swap targets a person would expect.
    assert len(faces) >= 15 and len(usable) >= 15
    assert job.result == {"crowd_photo_id": crowd.pk, "faces": len(faces), "usable": len(usable)}
    assert all(len(f.landmarks) == 68 for f in faces)
    # Hosts carry an embedding and the dense mesh the swap warps with; the tiny faces behind are boxes only
    # (README: 200+ of them), kept for the picture and the counts.
    assert all(f.embedded and len(bytes(f.mesh)) == 468 * 3 * 4 for f in usable)
    boxes_only = [f for f in faces if not f.embedded]
    assert len(boxes_only) >= 100 and all(f.mesh is None and not f.can_host for f in boxes_only)
    # Re-running the job replaces the faces instead of adding to them.
    crowds.process_crowd(job, lambda percent, stage: None)
    assert crowd.faces.count() == len(faces)


def test_the_worker_shares_a_crowds_faces_with_its_encoder_helper(room, stadium_jpeg, settings):
    """FACE_ENCODE_PROCESSES=2: the warm-up starts a helper and a crowd job hands it half of the faces to embed."""
    settings.FACE_ENCODE_PROCESSES = 2
    load_face_models()
    assert encoder.wait_for_helpers(1) == 1
    helper = encoder._helpers[0]
    shares = []
    receive = helper.receive
    helper.receive = lambda: shares.append(receive()) or shares[-1]
    try:
        crowds.add_crowd_photos(room=room, files=[upload("stadium.jpg", stadium_jpeg)])
        (job,) = run_queued_jobs("crowd")
    finally:
        del helper.receive
    hosts = [f for f in CrowdPhoto.objects.get().faces.all() if f.embedded]
    assert job.status == Job.Status.DONE and len(hosts) >= 20
    assert len(shares) == 1 and len(shares[0]) == len(hosts) // 2


def test_summary_explains_a_crowd_with_fewer_faces_than_people(room, couple_jpeg, small_photos):
    crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg)])
    crowd = CrowdPhoto.objects.get()
    assert crowds.crowd_summary(crowd_photo=crowd).message == "Looking for faces in this crowd…"
    photos.add_photos(room=room, files=[upload(f"{p}.jpg", small_photos[p][0]) for p in small_photos])
    run_queued_jobs()
    crowd.refresh_from_db()
    assert Identity.objects.filter(room=room).count() == 3
    summary = crowds.crowd_summary(crowd_photo=crowd)
    assert (summary.faces, summary.usable, summary.people, summary.enough) == (2, 2, 3, False)
    assert summary.message.startswith("2 faces can host a friend.")
    assert "You have 3 visible people, so only 2 of them can be hidden" in summary.message
    # Hiding a person makes the crowd big enough.
    identities.set_identity_hidden(identity=Identity.objects.filter(room=room).first(), hidden=True)
    summary = crowds.crowd_summary(crowd_photo=crowd)
    assert summary.enough and summary.message.endswith("Enough for all 2 visible people.")


def test_a_crowd_without_faces_fails_clearly(room):
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (40, 120, 200)).save(buffer, format="JPEG")
    crowds.add_crowd_photos(room=room, files=[upload("sky.jpg", buffer.getvalue())])
    run_queued_jobs("crowd")
    crowd = CrowdPhoto.objects.get()
    assert crowd.status == ProcessingStatus.FAILED and "No face found in this crowd photo" in crowd.error
    assert crowds.crowd_summary(crowd_photo=crowd).message == crowd.error


def test_lookalikes_are_the_faces_a_person_could_be_placed_on(room, couple_jpeg, labelled_photos, host_client):
    jolie_photos = [small_jpeg(p) for p in labelled_photos["angelina_jolie"][:3]]
    photos.add_photos(room=room, files=[upload(f"j{i}.jpg", c) for i, c in enumerate(jolie_photos)])
    crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg)])
    run_queued_jobs()
    (identity,) = Identity.objects.filter(room=room)
    found = crowds.lookalikes(room=room)
    # README: angelina_jolie is in couple.jpg. The man beside her is no lookalike of hers, however near his
    # embedding: the fit never places a friend on a face of another gender.
    ((best, fit),) = found[identity.pk].faces
    assert isinstance(best, CrowdFace) and fit.allowed and fit.distance < 0.6
    assert fit.verdict in ("good", "fair")
    page = host_client.get(reverse("swaps:crowds", args=[room.pk])).content.decode()
    assert f'class="badge fit-{fit.verdict}">{fit.verdict.capitalize()}</span>' in page
    body = host_client.get(reverse("api-lookalikes", args=[room.pk]), {"difficulty": "hard"}).json()
    (row,) = body
    assert [look["crowd_face"] for look in row["lookalikes"]] == [best.pk]
    assert row["lookalikes"][0]["fit"]["verdict"] in ("good", "fair") and row["why_none"] == ""


def test_crowd_api_and_page_show_boxes_and_summary(room, couple_jpeg, host_client):
    crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg)])
    run_queued_jobs("crowd")
    crowd = CrowdPhoto.objects.get()
    body = host_client.get(reverse("api-crowds", args=[room.pk])).json()
    (item,) = body
    assert item["status"] == "done" and len(item["faces"]) == 2
    for face in item["faces"]:
        left, top, width, height = face["box"]
        assert 0 <= left < 1 and 0 <= top < 1 and 0 < width <= 1 and 0 < height <= 1
    assert item["summary"]["usable"] == 2 and "2 faces can host a friend" in item["summary"]["message"]
    page = host_client.get(reverse("swaps:crowds", args=[room.pk])).content.decode()
    assert page.count('class="face-box usable"') == 2
    assert reverse("swaps:crowd-image", args=[room.pk, crowd.pk]) in page
    assert "2 faces can host a friend" in page


def test_crowd_page_upload_and_delete(room, couple_jpeg, host_client, django_capture_on_commit_callbacks):
    response = host_client.post(
        reverse("swaps:crowd-upload", args=[room.pk]), {"files": [upload("c.jpg", couple_jpeg)]}, follow=True
    )
    assert response.status_code == 200 and "1 uploaded" in response.content.decode()
    crowd = CrowdPhoto.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        host_client.post(reverse("swaps:crowd-delete", args=[room.pk, crowd.pk]))
    assert not CrowdPhoto.objects.exists() and storage_files() == []


def crash(rgb, **kwargs):
    raise RuntimeError("detector exploded")


def test_a_crowd_whose_last_attempt_crashes_says_so_and_retry_runs_it_again(
    room, couple_jpeg, host_client, monkeypatch, settings, django_capture_on_commit_callbacks
):
    from crowdswap.jobs import engine

    settings.JOB_MAX_ATTEMPTS = 1
    crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg)])
    with monkeypatch.context() as patched:
        patched.setattr("swaps.pipeline.faces.detect_faces", crash)
        (job,) = run_queued_jobs("crowd")
    crowd = CrowdPhoto.objects.get()
    # Before the engine owned the lifecycle, the crowd stayed "processing" forever.
    assert job.status == Job.Status.FAILED
    assert (crowd.status, crowd.error) == (ProcessingStatus.FAILED, crowds.FAILED_MESSAGE)
    body = host_client.get(reverse("api-crowd", args=[room.pk, crowd.pk])).json()
    assert body["retryable"] is True and body["job"] == job.pk
    page = host_client.get(reverse("swaps:crowds", args=[room.pk])).content.decode()
    assert crowds.FAILED_MESSAGE in page and f'action="/jobs/{job.pk}/retry/"' in page

    with django_capture_on_commit_callbacks(execute=True):
        engine.retry(job=job)
    crowd.refresh_from_db()
    assert (crowd.status, crowd.error) == (ProcessingStatus.QUEUED, "")
    run_queued_jobs("crowd")
    crowd.refresh_from_db()
    assert crowd.status == ProcessingStatus.DONE and crowd.faces.count() == 2


def test_a_crowd_whose_worker_died_on_the_last_attempt_is_failed_by_the_sweep(room, couple_jpeg):
    from crowdswap.jobs import engine

    crowds.add_crowd_photos(room=room, files=[upload("couple.jpg", couple_jpeg)])
    crowd = CrowdPhoto.objects.get()
    # A worker marked it processing and was killed: no heartbeat since.
    CrowdPhoto.objects.filter(pk=crowd.pk).update(status=ProcessingStatus.PROCESSING)
    abandon_job(crowd.job_id)

    assert engine.sweep(requeue_after=60, attempts_limit=1) == 1

    crowd.refresh_from_db()
    assert (crowd.status, crowd.error) == (ProcessingStatus.FAILED, crowds.FAILED_MESSAGE)
