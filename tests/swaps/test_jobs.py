"""The jobs engine in one process: enqueue, claim, run, fail, retry and sweep."""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from rooms.models import Room
from swaps import jobs
from swaps.models import Job

pytestmark = pytest.mark.postgres_too

CALLS: list[int] = []


def crashing_handler(job: Job, progress: jobs.Progress) -> dict:
    """Fail the way a bug or a dropped database connection would."""
    CALLS.append(job.pk)
    raise RuntimeError("disk on fire")


def counting_handler(job: Job, progress: jobs.Progress) -> dict:
    """Record each execution so a double run shows."""
    CALLS.append(job.pk)
    progress(50, "Halfway")
    return {"calls": CALLS.count(job.pk)}


@pytest.fixture(autouse=True)
def clear_calls():
    CALLS.clear()


@pytest.fixture
def room(host) -> Room:
    return Room.objects.create(owner=host, title="Beach party")


def receive_nudge(timeout: float = 2) -> dict | None:
    """Return the next message on the jobs channel of the in-memory layer, or None."""
    import asyncio

    async def receive() -> dict | None:
        try:
            return await asyncio.wait_for(get_channel_layer().receive("crowdswap-jobs"), timeout)
        except TimeoutError:
            return None

    return async_to_sync(receive)()


def test_enqueue_creates_queued_row_and_nudges_only_after_commit(room, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = jobs.enqueue(kind="ping", room=room, payload={"seconds": 0})
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED
    assert job.attempts == 0
    assert callbacks, "the nudge must wait for the commit"

    for callback in callbacks:
        callback()
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}


def test_enqueue_rejects_unknown_kind(room):
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.enqueue(kind="teleport", room=room, payload={})


def test_claim_is_granted_once(room):
    job = Job.objects.create(kind="ping", room=room)
    first = jobs.claim(job.pk, worker_id="a")
    second = jobs.claim(job.pk, worker_id="b")
    assert first is not None and first.status == Job.Status.RUNNING and first.worker_id == "a"
    assert second is None
    job.refresh_from_db()
    assert (job.attempts, job.worker_id) == (1, "a")
    assert job.heartbeat_at is not None


def test_run_job_records_result_and_a_second_delivery_does_nothing(room, monkeypatch):
    monkeypatch.setitem(jobs.HANDLERS, "ping", f"{__name__}.counting_handler")
    job = Job.objects.create(kind="ping", room=room)

    jobs.run_job(job.pk, worker_id="w1")
    jobs.run_job(job.pk, worker_id="w2")

    job.refresh_from_db()
    assert CALLS == [job.pk]
    assert job.status == Job.Status.DONE
    assert job.result == {"calls": 1}
    assert (job.progress, job.stage, job.attempts) == (100, "Done", 1)
    assert job.worker_id.startswith("w1:")
    assert job.finished_at is not None


def test_ping_job_reports_progress_steps(room, monkeypatch, tmp_path):
    monkeypatch.setenv(jobs.PING_LOG_ENV, str(tmp_path / "pings.log"))
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    seen: list[tuple[int, str]] = []
    real_push = jobs._push
    monkeypatch.setattr(jobs, "_push", lambda job: (seen.append((job.progress, job.stage)), real_push(job)))
    job = Job.objects.create(kind="ping", room=room, payload={"seconds": 3})

    jobs.run_job(job.pk, worker_id="w")

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.result["seconds"] == 3
    assert seen == [(0, "Starting"), (0, "Step 1 of 3"), (33, "Step 2 of 3"), (66, "Step 3 of 3"), (100, "Done")]
    assert [line.split()[:2] for line in (tmp_path / "pings.log").read_text().splitlines()] == [
        ["start", str(job.pk)],
        ["done", str(job.pk)],
    ]


def test_job_error_fails_cleanly_without_retry(room):
    job = Job.objects.create(kind="ping", room=room, payload={"fail": "No face found in this photo."})

    jobs.run_job(job.pk, worker_id="w")

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == "No face found in this photo."
    assert job.attempts == 1


def test_unexpected_error_requeues_until_max_attempts_then_fails(room, monkeypatch, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    monkeypatch.setitem(jobs.HANDLERS, "ping", f"{__name__}.crashing_handler")
    job = Job.objects.create(kind="ping", room=room)

    jobs.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.stage) == (Job.Status.QUEUED, 1, "Retrying")
    assert job.error == "Attempt 1 failed (RuntimeError: disk on fire); trying again."
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}

    jobs.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Failed after 2 attempts" in job.error and "disk on fire" in job.error
    assert CALLS == [job.pk, job.pk]


def test_retry_requeues_a_failed_job_from_scratch(room, django_capture_on_commit_callbacks):
    job = Job.objects.create(kind="ping", room=room, status=Job.Status.FAILED, attempts=3, error="Tried 3 times")

    with django_capture_on_commit_callbacks(execute=True):
        jobs.retry(job=job)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error, job.progress) == (Job.Status.QUEUED, 0, "", 0)
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}
    jobs.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.DONE])
def test_retry_refuses_jobs_that_did_not_fail(room, status):
    job = Job.objects.create(kind="ping", room=room, status=status, attempts=1)
    with pytest.raises(jobs.JobError, match="Only a failed job"):
        jobs.retry(job=job)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (status, 1)


def test_sweep_renudges_only_stale_queued_jobs(room):
    now = timezone.now()
    stale = Job.objects.create(kind="ping", room=room, queued_at=now - timedelta(seconds=120))
    fresh = Job.objects.create(kind="ping", room=room, queued_at=now - timedelta(seconds=10))

    assert jobs.sweep(now=now, requeue_after=60) == 1

    assert receive_nudge() == {"type": "job.run", "job_id": stale.pk}
    assert receive_nudge(timeout=0.2) is None
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.queued_at == now and stale.status == Job.Status.QUEUED
    # The deadline is re-armed: an immediate second sweep sends nothing new.
    assert jobs.sweep(now=now, requeue_after=60) == 0


def test_sweep_requeues_running_job_whose_worker_went_quiet(room):
    now = timezone.now()
    job = Job.objects.create(kind="ping", room=room)
    claimed = jobs.claim(job.pk, worker_id="dead-worker")
    Job.objects.filter(id=job.pk).update(heartbeat_at=now - timedelta(seconds=300))
    alive = Job.objects.create(kind="ping", room=room)
    jobs.claim(alive.pk, worker_id="live-worker")

    assert jobs.sweep(now=now, requeue_after=60, attempts_limit=3) == 1

    job.refresh_from_db()
    alive.refresh_from_db()
    assert (job.status, job.worker_id, job.attempts) == (Job.Status.QUEUED, "", 1)
    assert alive.status == Job.Status.RUNNING
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}

    # The stalled run wakes up later: it no longer owns the job, so its outcome is dropped.
    assert jobs._finish(claimed, status=Job.Status.DONE, result={"late": True}) is False
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.result == {}


def test_sweep_fails_job_after_max_attempts(room):
    now = timezone.now()
    job = Job.objects.create(kind="ping", room=room, attempts=2)
    jobs.claim(job.pk, worker_id="w")
    Job.objects.filter(id=job.pk).update(heartbeat_at=now - timedelta(seconds=300))

    assert jobs.sweep(now=now, requeue_after=60, attempts_limit=3) == 1

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Tried 3 times")
    assert receive_nudge(timeout=0.2) is None


def test_job_event_carries_the_shared_fields(room):
    job = Job.objects.create(kind="ping", room=room, payload={"seconds": 1})
    assert jobs.job_event(job) == {
        "id": job.pk,
        "kind": "ping",
        "status": "queued",
        "progress": 0,
        "stage": "",
        "error": "",
        "payload": {"seconds": 1},
        "result": {},
    }


def requeue_mid_run_handler(job: Job, progress: jobs.Progress) -> dict:
    """Stall long enough for the sweep to hand the job to another run, then report progress."""
    CALLS.append(job.pk)
    Job.objects.filter(id=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=300))
    jobs.sweep(requeue_after=60)
    progress(50, "Still here")
    CALLS.append(-job.pk)  # never reached: the stale run stops at its next progress call
    return {"stale": True}


def test_a_run_that_lost_its_claim_stops_and_records_nothing(room, monkeypatch):
    monkeypatch.setitem(jobs.HANDLERS, "ping", f"{__name__}.requeue_mid_run_handler")
    job = Job.objects.create(kind="ping", room=room)

    jobs.run_job(job.pk, worker_id="stalled")

    job.refresh_from_db()
    assert CALLS == [job.pk]
    assert (job.status, job.result, job.worker_id) == (Job.Status.QUEUED, {}, "")
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}
