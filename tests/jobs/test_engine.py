"""The jobs engine in one process: register, enqueue, claim, run, fail for good, retry and sweep."""

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from crowdswap.jobs import engine, kinds, ping
from crowdswap.jobs.models import Job
from crowdswap.lib.errors import Conflict

pytestmark = [pytest.mark.postgres_too, pytest.mark.django_db]

CALLS: list[int] = []
# (event, job id, reason) for every hook the engine called on the test kind.
HOOKS: list[tuple[str, int, str | None]] = []


def crashing_handler(job: Job, progress: kinds.Progress) -> dict:
    """Fail the way a bug or a dropped database connection would."""
    CALLS.append(job.pk)
    raise RuntimeError("disk on fire")


def counting_handler(job: Job, progress: kinds.Progress) -> dict:
    """Record each execution so a double run shows."""
    CALLS.append(job.pk)
    progress(50, "Halfway")
    return {"calls": CALLS.count(job.pk)}


def refusing_handler(job: Job, progress: kinds.Progress) -> dict:
    raise kinds.JobError("The crowd photo was deleted.")


def record_failed(job: Job, reason: str | None) -> None:
    HOOKS.append(("failed", job.pk, reason))


def record_retried(job: Job) -> None:
    HOOKS.append(("retried", job.pk, None))


TEST_KIND = kinds.Kind(
    name="test", label="A test job", run=counting_handler, failed=record_failed, retried=record_retried
)


@pytest.fixture(autouse=True)
def test_kind(monkeypatch):
    """Register a kind of job that records its hooks, for this test only."""
    CALLS.clear()
    HOOKS.clear()
    monkeypatch.setitem(kinds.REGISTRY, TEST_KIND.name, TEST_KIND)


def use_handler(monkeypatch, handler) -> None:
    monkeypatch.setitem(kinds.REGISTRY, TEST_KIND.name, dataclasses.replace(TEST_KIND, run=handler))


def make_job(**fields) -> Job:
    return Job.objects.create(kind=TEST_KIND.name, **fields)


def receive(channel: str, timeout: float = 2) -> dict | None:
    """Return the next message on a channel of the in-memory layer, or None."""

    async def next_message() -> dict | None:
        try:
            return await asyncio.wait_for(get_channel_layer().receive(channel), timeout)
        except TimeoutError:
            return None

    return async_to_sync(next_message)()


def receive_nudge(timeout: float = 2) -> dict | None:
    return receive("crowdswap-jobs", timeout)


def test_enqueue_creates_queued_row_and_nudges_only_after_commit(host, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = engine.enqueue(kind=TEST_KIND, payload={"n": 1}, owner_id=host.pk, group_name="room-7")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.kind, job.owner_id, job.group_name) == (
        Job.Status.QUEUED,
        0,
        "test",
        host.pk,
        "room-7",
    )
    assert callbacks, "the nudge must wait for the commit"

    for callback in callbacks:
        callback()
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}


def test_enqueue_refuses_a_kind_no_app_registered():
    unknown = kinds.Kind(name="teleport", label="Teleport", run=counting_handler)
    with pytest.raises(ValueError, match="not registered"):
        engine.enqueue(kind=unknown, payload={})


def test_registering_one_name_with_another_handler_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        kinds.register(dataclasses.replace(TEST_KIND, run=crashing_handler))
    assert kinds.register(TEST_KIND) is TEST_KIND  # the same kind again is harmless


def test_the_apps_register_their_kinds_and_the_face_model_warmup():
    from rooms.services.faces import load_face_models

    assert {"photo", "crowd", "swap", "ping"} <= set(kinds.REGISTRY)
    assert all(kinds.REGISTRY[name].failed is not None for name in ("photo", "crowd", "swap"))
    assert load_face_models in kinds.WARMUPS


def test_claim_is_granted_once():
    job = make_job()
    first = engine.claim(job.pk, worker_id="a")
    second = engine.claim(job.pk, worker_id="b")
    assert first is not None and first.status == Job.Status.RUNNING and first.worker_id == "a"
    assert second is None
    job.refresh_from_db()
    assert (job.attempts, job.worker_id) == (1, "a")
    assert job.heartbeat_at is not None


def test_run_job_records_result_and_a_second_delivery_does_nothing():
    job = make_job()

    engine.run_job(job.pk, worker_id="w1")
    engine.run_job(job.pk, worker_id="w2")

    job.refresh_from_db()
    assert CALLS == [job.pk]
    assert job.status == Job.Status.DONE
    assert job.result == {"calls": 1}
    assert (job.progress, job.stage, job.attempts) == (100, "Done", 1)
    assert job.worker_id.startswith("w1:")
    assert job.finished_at is not None
    assert HOOKS == []


def test_progress_goes_to_the_group_the_job_names(django_capture_on_commit_callbacks):
    async_to_sync(get_channel_layer().group_add)("room-42", "probe")
    job = make_job(group_name="room-42")

    with django_capture_on_commit_callbacks(execute=True):
        engine.run_job(job.pk, worker_id="w")

    seen = []
    while (message := receive("probe", timeout=0.2)) is not None:
        assert message["type"] == "job.event" and message["job"]["id"] == job.pk
        seen.append((message["job"]["status"], message["job"]["stage"]))
    assert seen == [("running", "Starting"), ("running", "Halfway"), ("done", "Done")]


def test_ping_job_reports_progress_steps(monkeypatch, tmp_path):
    monkeypatch.setenv(ping.PING_LOG_ENV, str(tmp_path / "pings.log"))
    monkeypatch.setattr(ping.time, "sleep", lambda seconds: None)
    seen: list[tuple[int, str]] = []
    real_push = engine._push
    monkeypatch.setattr(engine, "_push", lambda job: (seen.append((job.progress, job.stage)), real_push(job)))
    job = Job.objects.create(kind="ping", payload={"seconds": 3})

    engine.run_job(job.pk, worker_id="w")

    job.refresh_from_db()
    assert job.status == Job.Status.DONE
    assert job.result["seconds"] == 3
    assert seen == [(0, "Starting"), (0, "Step 1 of 3"), (33, "Step 2 of 3"), (66, "Step 3 of 3")]
    assert [line.split()[:2] for line in (tmp_path / "pings.log").read_text().splitlines()] == [
        ["start", str(job.pk)],
        ["done", str(job.pk)],
    ]


def test_job_error_fails_for_good_at_once_and_tells_the_kind_why(monkeypatch):
    use_handler(monkeypatch, refusing_handler)
    job = make_job()

    engine.run_job(job.pk, worker_id="w")

    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == (Job.Status.FAILED, "The crowd photo was deleted.", 1)
    assert HOOKS == [("failed", job.pk, "The crowd photo was deleted.")]


def test_unexpected_error_requeues_until_max_attempts_then_fails_for_good(monkeypatch, settings):
    settings.JOB_MAX_ATTEMPTS = 2
    use_handler(monkeypatch, crashing_handler)
    job = make_job()

    engine.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert (job.status, job.attempts, job.stage) == (Job.Status.QUEUED, 1, "Retrying")
    assert job.error == "Attempt 1 failed (RuntimeError: disk on fire); trying again."
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}
    assert HOOKS == [], "a job that will be tried again has not failed yet"

    engine.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "Failed after 2 attempts" in job.error and "disk on fire" in job.error
    assert CALLS == [job.pk, job.pk]
    # A crash has no words for the page: the kind chooses its own.
    assert HOOKS == [("failed", job.pk, None)]


def test_retry_requeues_a_failed_job_from_scratch_and_tells_the_kind(django_capture_on_commit_callbacks):
    job = make_job(status=Job.Status.FAILED, attempts=3, error="Tried 3 times")

    with django_capture_on_commit_callbacks(execute=True):
        engine.retry(job=job)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.error, job.progress) == (Job.Status.QUEUED, 0, "", 0)
    assert HOOKS == [("retried", job.pk, None)]
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}
    engine.run_job(job.pk, worker_id="w")
    job.refresh_from_db()
    assert job.status == Job.Status.DONE


@pytest.mark.parametrize("status", [Job.Status.QUEUED, Job.Status.RUNNING, Job.Status.DONE])
def test_retry_refuses_jobs_that_did_not_fail(status):
    job = make_job(status=status, attempts=1)
    with pytest.raises(Conflict, match="Only a failed job"):
        engine.retry(job=job)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (status, 1)
    assert HOOKS == []


def test_sweep_renudges_only_stale_queued_jobs():
    now = timezone.now()
    stale = make_job(queued_at=now - timedelta(seconds=120))
    fresh = make_job(queued_at=now - timedelta(seconds=10))

    assert engine.sweep(now=now, requeue_after=60) == 1

    assert receive_nudge() == {"type": "job.run", "job_id": stale.pk}
    assert receive_nudge(timeout=0.2) is None
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.queued_at == now and stale.status == Job.Status.QUEUED
    # The deadline is re-armed: an immediate second sweep sends nothing new.
    assert engine.sweep(now=now, requeue_after=60) == 0


def test_sweep_requeues_running_job_whose_worker_went_quiet():
    now = timezone.now()
    job = make_job()
    claimed = engine.claim(job.pk, worker_id="dead-worker")
    assert claimed is not None
    Job.objects.filter(id=job.pk).update(heartbeat_at=now - timedelta(seconds=300))
    alive = make_job()
    engine.claim(alive.pk, worker_id="live-worker")

    assert engine.sweep(now=now, requeue_after=60, attempts_limit=3) == 1

    job.refresh_from_db()
    alive.refresh_from_db()
    assert (job.status, job.worker_id, job.attempts) == (Job.Status.QUEUED, "", 1)
    assert alive.status == Job.Status.RUNNING
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}

    # The stalled run wakes up later: it no longer owns the job, so its outcome is dropped.
    assert engine._finish(claimed, engine._owned(claimed), status=Job.Status.DONE, result={"late": True}) is False
    job.refresh_from_db()
    assert job.status == Job.Status.QUEUED and job.result == {}


def test_sweep_fails_job_for_good_after_max_attempts_and_tells_the_kind():
    now = timezone.now()
    job = make_job(attempts=2)
    engine.claim(job.pk, worker_id="w")
    Job.objects.filter(id=job.pk).update(heartbeat_at=now - timedelta(seconds=300))

    assert engine.sweep(now=now, requeue_after=60, attempts_limit=3) == 1

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("Tried 3 times")
    assert receive_nudge(timeout=0.2) is None
    assert HOOKS == [("failed", job.pk, None)]


def test_job_event_carries_the_shared_fields():
    job = make_job(payload={"seconds": 1})
    assert engine.job_event(job) == {
        "id": job.pk,
        "kind": "test",
        "status": "queued",
        "progress": 0,
        "stage": "",
        "error": "",
        "payload": {"seconds": 1},
        "result": {},
    }


def requeue_mid_run_handler(job: Job, progress: kinds.Progress) -> dict:
    """Stall long enough for the sweep to hand the job to another run, then report progress."""
    CALLS.append(job.pk)
    Job.objects.filter(id=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=300))
    engine.sweep(requeue_after=60)
    progress(50, "Still here")
    CALLS.append(-job.pk)  # never reached: the stale run stops at its next progress call
    return {"stale": True}


def test_a_run_that_lost_its_claim_stops_and_records_nothing(monkeypatch):
    use_handler(monkeypatch, requeue_mid_run_handler)
    job = make_job()

    engine.run_job(job.pk, worker_id="stalled")

    job.refresh_from_db()
    assert CALLS == [job.pk]
    assert (job.status, job.result, job.worker_id) == (Job.Status.QUEUED, {}, "")
    assert receive_nudge() == {"type": "job.run", "job_id": job.pk}
    assert HOOKS == []
