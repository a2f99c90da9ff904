"""Clustering friends' photos into people, and the host's decisions surviving later uploads."""

import pytest

from crowdswap.lib.errors import ServiceError
from rooms.models import Face, Identity, Photo
from rooms.services import identities, photos
from rooms.services import rooms as rooms_services
from tests.rooms.photos import PEOPLE, run_queued_jobs, upload

pytestmark = pytest.mark.usefixtures("media", "face_models")


def upload_people(room, small_photos, indexes=(0, 1, 2)) -> dict[int, str]:
    """Upload photos of each person, process them, and return photo id -> person."""
    files, truth = [], []
    for person in PEOPLE:
        for i in indexes:
            files.append(upload(f"{person}-{i}.jpg", small_photos[person][i]))
            truth.append(person)
    report = photos.add_photos(room=room, files=files)
    assert [o.status for o in report.outcomes] == ["added"] * len(files)
    run_queued_jobs("photo")
    return {o.photo.pk: person for o, person in zip(report.outcomes, truth, strict=True)}


def grouping(room) -> dict[int, set[int]]:
    """Return identity id -> set of photo ids of its faces."""
    groups: dict[int, set[int]] = {}
    for face in Face.objects.filter(photo__room=room, ignored=False):
        groups.setdefault(face.identity_id, set()).add(face.photo_id)
    return groups


def person_of(identity: Identity, truth: dict[int, str]) -> set[str]:
    return {truth[f.photo_id] for f in identity.faces.all() if f.photo_id in truth}


def test_each_person_becomes_one_identity(room, small_photos):
    truth = upload_people(room, small_photos)
    assert all(p.status == "done" for p in Photo.objects.filter(room=room))
    groups = grouping(room)
    expected = {frozenset(pid for pid, person in truth.items() if person == p) for p in PEOPLE}
    assert {frozenset(photos) for photos in groups.values()} == expected
    assert Identity.objects.filter(room=room).count() == 3
    # Every face has a thumbnail and the photo records how many faces it had.
    for face in Face.objects.filter(photo__room=room):
        assert face.thumbnail and face.thumbnail.storage.exists(face.thumbnail.name)


@pytest.mark.postgres_too
def test_rename_hide_merge_move_survive_a_later_upload(room, small_photos):
    truth = upload_people(room, small_photos)
    by_person = {next(iter(person_of(i, truth))): i for i in Identity.objects.filter(room=room)}
    jolie, aniston, zuck = (by_person[p] for p in PEOPLE)

    identities.rename_identity(identity=jolie, name="Angie")
    identities.set_identity_hidden(identity=zuck, hidden=True)
    # The host decides (wrongly, but it is their call) that Aniston's photos are Angie too.
    merged = identities.merge_identities(room=room, identity_ids=[jolie.pk, aniston.pk]).identity
    assert merged.pk == jolie.pk and merged.name == "Angie"
    assert not Identity.objects.filter(pk=aniston.pk).exists()
    # And moves one of Zuckerberg's faces out into a person of its own.
    moved_face = Face.objects.filter(identity=zuck).order_by("id").first()
    loner = identities.move_face(face=moved_face, identity_id=None).identity
    assert loner.pk not in (jolie.pk, zuck.pk)

    # A later upload of a fourth photo of each person re-clusters the room.
    files = [upload(f"{p}-3.jpg", small_photos[p][3]) for p in PEOPLE]
    report = photos.add_photos(room=room, files=files)
    run_queued_jobs("photo")
    new_photo = {p: o.photo.pk for p, o in zip(PEOPLE, report.outcomes, strict=True)}

    jolie.refresh_from_db()
    zuck.refresh_from_db()
    assert jolie.name == "Angie" and not jolie.hidden
    assert zuck.hidden
    merged_photos = {f.photo_id for f in jolie.faces.all()}
    aniston_old = {pid for pid, p in truth.items() if p == "jennifer_aniston"}
    jolie_old = {pid for pid, p in truth.items() if p == "angelina_jolie"}
    assert aniston_old | jolie_old | {new_photo["angelina_jolie"]} <= merged_photos
    # The moved face stayed where the host put it.
    moved_face.refresh_from_db()
    assert moved_face.identity_id == loner.pk and moved_face.pinned
    # The new Zuckerberg photo joined the hidden, still-existing identity.
    assert Face.objects.get(photo_id=new_photo["mark_zuckerberg"]).identity_id == zuck.pk


def test_ignore_face_removes_it_and_empty_identities_go(room, small_photos):
    upload_people(room, small_photos, indexes=(0,))
    # One photo each: DBSCAN leaves them unclustered, yet each is a person of their own.
    people = list(Identity.objects.filter(room=room))
    assert len(people) == 3
    face = people[0].faces.get()
    identities.ignore_face(face=face)
    face.refresh_from_db()
    assert face.ignored and face.identity_id is None
    assert not Identity.objects.filter(pk=people[0].pk).exists()
    # Re-clustering keeps it out.
    identities.recluster_room(room=room)
    face.refresh_from_db()
    assert face.identity_id is None
    assert Identity.objects.filter(room=room).count() == 2
    # Restoring it brings the person back.
    identities.ignore_face(face=face, ignored=False)
    face.refresh_from_db()
    assert not face.ignored and face.identity_id is not None
    assert Identity.objects.filter(room=room).count() == 3


@pytest.mark.postgres_too
def test_merge_needs_two_people_of_this_room(room, host, small_photos):
    upload_people(room, small_photos, indexes=(0,))
    other_room = rooms_services.create_room(owner=host, title="Other")
    stranger_identity = Identity.objects.create(room=other_room)
    mine = list(Identity.objects.filter(room=room).values_list("id", flat=True))
    with pytest.raises(ServiceError, match="at least two"):
        identities.merge_identities(room=room, identity_ids=[mine[0]])
    with pytest.raises(ServiceError, match="no longer exists"):
        identities.merge_identities(room=room, identity_ids=[mine[0], stranger_identity.pk])
    assert Identity.objects.filter(room=room).count() == 3


@pytest.mark.postgres_too
def test_move_face_to_an_identity_of_another_room_is_refused(room, host, small_photos):
    upload_people(room, small_photos, indexes=(0,))
    other = Identity.objects.create(room=rooms_services.create_room(owner=host, title="Other"))
    face = Face.objects.filter(photo__room=room).first()
    with pytest.raises(ServiceError):
        identities.move_face(face=face, identity_id=other.pk)
    face.refresh_from_db()
    assert face.identity.room_id == room.pk


def test_processing_twice_does_not_duplicate_faces(room, small_photos, django_capture_on_commit_callbacks):
    from crowdswap.jobs.engine import run_job
    from crowdswap.jobs.models import Job
    from tests.rooms.photos import storage_files

    upload_people(room, small_photos, indexes=(0,))
    photo = Photo.objects.filter(room=room).first()
    job = Job.objects.get(kind="photo", payload__photo_id=photo.pk)
    assert job.status == Job.Status.DONE and job.result["faces"] == 1
    files_before = storage_files()
    # A crash after the handler finished but before the job was recorded means a second run.
    with django_capture_on_commit_callbacks(execute=True):
        photos.process_photo(job, lambda percent, stage: None)
    assert photo.faces.count() == 1
    assert Identity.objects.filter(room=room).count() == 3
    # The second run replaced the first run's thumbnail rather than adding one.
    assert len(storage_files()) == len(files_before)
    assert photo.faces.get().thumbnail.name in storage_files()
    run_job(job.pk, worker_id="test")  # already done: claiming fails, nothing runs
    assert photo.faces.count() == 1


def test_a_photo_whose_last_attempt_crashes_is_marked_failed(room, small_photos, monkeypatch, settings):
    from crowdswap.jobs.models import Job

    settings.JOB_MAX_ATTEMPTS = 2
    photos.add_photos(room=room, files=[upload("a.jpg", small_photos["angelina_jolie"][0])])

    def crash(rgb, **kwargs):
        raise RuntimeError("detector exploded")

    monkeypatch.setattr("swaps.pipeline.faces.detect_faces", crash)
    run_queued_jobs("photo")  # first attempt: requeued for a retry
    photo = Photo.objects.get()
    assert photo.status == "processing"
    (job,) = run_queued_jobs("photo")  # last attempt
    photo.refresh_from_db()
    assert job.status == Job.Status.FAILED and "detector exploded" in job.error
    assert photo.status == "failed" and photo.error == photos.FAILED_MESSAGE


def test_regrouping_keeps_the_name_the_host_gave_when_two_people_join(room, small_photos):
    upload_people(room, small_photos, indexes=(0, 1))
    jolie_faces = list(Face.objects.filter(photo__original_name__startswith="angelina_jolie").order_by("id"))
    (jolie,) = {f.identity for f in jolie_faces}
    # Two people that a regrouping will join, the newer one named by the host (an unnamed one sorts first).
    named = Identity.objects.create(room=room, name="Angie")
    Face.objects.filter(pk=jolie_faces[1].pk).update(identity=named)

    identities.recluster_room(room=room)

    assert {f.identity_id for f in Face.objects.filter(pk__in=[f.pk for f in jolie_faces])} == {named.pk}
    assert Identity.objects.get(pk=named.pk).name == "Angie"
    assert not Identity.objects.filter(pk=jolie.pk).exists()


def test_close_people_are_suggested_for_merging_until_the_host_answers(room, small_photos, host_client):
    upload_people(room, small_photos, indexes=(0, 1, 2))
    jolie = next(
        i
        for i in Identity.objects.filter(room=room)
        if i.faces.count() == 3 and "jolie" in str(i.faces.first().photo.original_name)
    )
    # The host splits one of her faces out: the two halves are the same person, so they are suggested.
    split = identities.move_face(face=jolie.faces.order_by("id").last(), identity_id=None).identity
    suggested = [{a.pk, b.pk} for a, b, _ in identities.merge_suggestions(room)]
    assert {jolie.pk, split.pk} in suggested
    body = host_client.get(f"/api/rooms/{room.pk}/merge-suggestions/").json()
    assert {body[0]["first"]["id"], body[0]["second"]["id"]} == {jolie.pk, split.pk}
    assert body[0]["first"]["thumbnail_url"] and body[0]["distance"] < 0.6
    page = host_client.get(f"/rooms/{room.pk}/").content.decode()
    assert "Are these the same person?" in page

    response = host_client.post(
        f"/api/rooms/{room.pk}/identities/keep-apart/",
        {"identities": [split.pk, jolie.pk]},
        content_type="application/json",
    )
    assert response.status_code == 204
    assert {jolie.pk, split.pk} not in [{a.pk, b.pk} for a, b, _ in identities.merge_suggestions(room)]
    assert "Are these the same person?" not in host_client.get(f"/rooms/{room.pk}/").content.decode()
    with pytest.raises(ServiceError, match="two people"):
        identities.keep_apart(room=room, identity_ids=[jolie.pk])
