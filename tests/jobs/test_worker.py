"""Real runworker processes, the embedded Redis and a shared SQLite file: jobs run once, survive crashes and lost nudges."""

import signal
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from crowdswap.jobs import engine as jobs
from crowdswap.jobs.models import Job
from crowdswap.jobs.ping import PING
from rooms.models import Room

pytestmark = pytest.mark.processes


@pytest.fixture
def room(host) -> Room:
    return Room.objects.create(owner=host, title="Worker test room")


def status_of(job_id: int) -> str:
    return Job.objects.values_list("status", flat=True).get(id=job_id)


def test_job_submitted_through_the_web_layer_runs_in_a_worker_process(workers, room, host, client):
    workers.start()
    job = Job.objects.create(
        kind="ping",
        owner=room.owner,
        group_name=room.group_name,
        status=Job.Status.FAILED,
        error="Tried 3 times",
        attempts=3,
    )
    client.force_login(host)

    response = client.post(f"/api/jobs/{job.pk}/retry/")
    assert response.status_code == 202

    workers.wait_until(lambda: status_of(job.pk) == Job.Status.DONE, what="the worker to finish")
    job.refresh_from_db()
    assert job.result["worker"].endswith(f":{workers.procs[0].pid}")
    assert job.result["worker"] != jobs.worker_identity()
    assert job.attempts == 1
    assert [row[:2] for row in workers.ping_lines()] == [("start", job.pk), ("done", job.pk)]


@pytest.mark.postgres_too
def test_sigkill_mid_job_then_new_worker_completes_it_exactly_once(workers, room):
    first = workers.start(requeue_after=5, sweep_interval=1)
    job = jobs.enqueue(kind=PING, owner_id=room.owner_id, group_name=room.group_name, payload={"seconds": 6})

    # Kill only once the job is really under way: running, with progress recorded.
    workers.wait_until(
        lambda: Job.objects.filter(id=job.pk, status=Job.Status.RUNNING, progress__gt=0).exists(),
        what="the job to be half done",
    )
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING, "the dead worker cannot have recorded anything"

    second = workers.start(requeue_after=5, sweep_interval=1)
    workers.wait_until(lambda: status_of(job.pk) == Job.Status.DONE, what="the job to be requeued and done")

    job.refresh_from_db()
    assert job.attempts == 2
    assert job.error == ""
    assert job.result["worker"].endswith(f":{second.pid}")
    lines = workers.ping_lines()
    assert [(e, p) for e, _, p, _ in lines] == [("start", first.pid), ("start", second.pid), ("done", second.pid)]
    workers.assert_alive()


def test_job_whose_nudge_was_lost_is_picked_up_by_the_sweep(workers, room):
    # Created without enqueue(): no nudge was ever sent, as if Redis had dropped it.
    stale = Job.objects.create(
        kind="ping", owner=room.owner, group_name=room.group_name, queued_at=timezone.now() - timedelta(minutes=5)
    )
    workers.start(sweep_interval=1, requeue_after=3)

    workers.wait_until(lambda: status_of(stale.pk) == Job.Status.DONE, what="the sweep to re-send")

    # A job whose nudge is lost while the worker runs is found by the periodic sweep, not only the one at start.
    later = Job.objects.create(kind="ping", owner=room.owner, group_name=room.group_name)
    workers.wait_until(lambda: status_of(later.pk) == Job.Status.DONE, what="the periodic sweep")
    assert Counter(e for e, *_ in workers.ping_lines()) == {"start": 2, "done": 2}


@pytest.mark.postgres_too
def test_two_workers_run_twenty_jobs_exactly_once_each(workers, room):
    first, second = workers.start(), workers.start()
    # Both must be listening, or a slow-starting one could find the queue already empty.
    workers.wait_ready()
    queued = [
        jobs.enqueue(kind=PING, owner_id=room.owner_id, group_name=room.group_name, payload={"seconds": 1})
        for _ in range(20)
    ]
    # Redelivered nudges must not cause double runs either: send every nudge a second time.
    for job in queued:
        jobs._nudge(job.pk)
    ids = {job.pk for job in queued}

    workers.wait_until(
        lambda: Job.objects.filter(id__in=ids, status=Job.Status.DONE).count() == 20,
        timeout=180,
        what="20 jobs to finish",
    )

    lines = workers.ping_lines()
    assert Counter(job_id for event, job_id, _, _ in lines if event == "start") == Counter(ids)
    assert Counter(job_id for event, job_id, _, _ in lines if event == "done") == Counter(ids)
    assert set(Job.objects.filter(id__in=ids).values_list("attempts", flat=True)) == {1}
    # Both processes took part: one busy worker does not hoard the queue.
    pids = {pid for _, _, pid, _ in lines}
    assert pids == {first.pid, second.pid}
    workers.assert_alive()


def upload(client, room: Room, paths: list) -> list[int]:
    """Upload photos through the REST API as the host's browser would; return the photo ids."""
    handles = [path.open("rb") for path in paths]
    try:
        response = client.post(f"/api/rooms/{room.pk}/photos/", {"files": handles}, format="multipart")
    finally:
        for handle in handles:
            handle.close()
    assert response.status_code == 201, response.content
    return [row["photo"]["id"] for row in response.json()["results"] if row["status"] == "added"]


def test_uploaded_photos_are_processed_by_a_worker_and_redelivery_duplicates_nothing(
    workers, room, host, client, data_dir
):
    from rooms.models import Face, Photo

    workers.start()
    client.force_login(host)
    paths = sorted((data_dir / "identities" / "angelina_jolie").glob("*.jpg"))[:3]
    photo_ids = upload(client, room, paths)
    assert len(photo_ids) == 3
    photo_jobs = Job.objects.filter(kind="photo", group_name=room.group_name)
    assert photo_jobs.count() == 3

    workers.wait_until(lambda: not photo_jobs.exclude(status=Job.Status.DONE).exists(), what="3 photo jobs")
    faces_before = Counter(Face.objects.filter(photo__room=room).values_list("photo_id", flat=True))
    assert set(faces_before) == set(photo_ids)
    assert set(Photo.objects.filter(room=room).values_list("status", flat=True)) == {"done"}

    # A late duplicate nudge for every job: the claim refuses them, nothing is stored twice.
    for job in photo_jobs:
        jobs._nudge(job.pk)
    probe = jobs.enqueue(
        kind=PING, owner_id=room.owner_id, group_name=room.group_name, payload={}
    )  # runs after the duplicates on the one worker
    workers.wait_until(lambda: status_of(probe.pk) == Job.Status.DONE, what="the probe job")
    assert Counter(Face.objects.filter(photo__room=room).values_list("photo_id", flat=True)) == faces_before
    assert set(photo_jobs.values_list("attempts", flat=True)) == {1}


def test_photo_job_killed_mid_way_completes_once_with_the_same_faces(workers, host, client, data_dir):
    from rooms.models import Face

    client.force_login(host)
    photo = sorted((data_dir / "identities" / "angelina_jolie").glob("*.jpg"))[0]
    crashed_room = Room.objects.create(owner=host, title="Crashed")
    clean_room = Room.objects.create(owner=host, title="Clean")

    first = workers.start(requeue_after=5, sweep_interval=1)
    upload(client, crashed_room, [photo])
    job = Job.objects.get(group_name=crashed_room.group_name, kind="photo")
    workers.wait_until(
        lambda: Job.objects.filter(id=job.pk, status=Job.Status.RUNNING).exists(), what="the photo job to start"
    )
    first.send_signal(signal.SIGKILL)
    first.wait(30)
    workers.start(requeue_after=5, sweep_interval=1)
    upload(client, clean_room, [photo])
    clean_job = Job.objects.get(group_name=clean_room.group_name, kind="photo")

    workers.wait_until(
        lambda: Job.objects.filter(id__in=[job.pk, clean_job.pk], status=Job.Status.DONE).count() == 2,
        what="both photo jobs",
    )
    job.refresh_from_db()
    # If the kill landed after the commit the job still shows RUNNING and is re-run: either way, one set of faces.
    assert job.attempts in (1, 2)
    crashed = list(Face.objects.filter(photo__room=crashed_room).values_list("left", "top", "width", "height"))
    clean = list(Face.objects.filter(photo__room=clean_room).values_list("left", "top", "width", "height"))
    assert crashed and sorted(crashed) == sorted(clean)
    clean_job.refresh_from_db()
    assert job.result["faces"] == clean_job.result["faces"] == len(clean)


def test_a_malformed_message_does_not_stop_the_worker(workers, room):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    workers.start()
    send = async_to_sync(get_channel_layer().send)
    send("crowdswap-jobs", {"type": "job.run"})  # no job id: the consumer raises
    send("crowdswap-jobs", {"type": "no.such.handler"})
    job = jobs.enqueue(kind=PING, owner_id=room.owner_id, group_name=room.group_name, payload={})

    workers.wait_until(lambda: status_of(job.pk) == Job.Status.DONE, what="the job after the bad messages")
    assert "starting a new one" in workers.diagnose()
