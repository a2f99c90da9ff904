"""Background jobs: the database row is the job, the channel message only nudges a worker.

Channels delivers at most once and channels_redis drops messages older than 60 s, so every
step here is driven by the row: a worker claims it with one conditional UPDATE, heartbeats
while it runs, and records the outcome only if it still owns the claim. A sweep re-sends
nudges for rows that nobody picked up and requeues rows whose worker stopped heartbeating.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from rooms.models import Room
from swaps.models import Job

logger = logging.getLogger(__name__)

Progress = Callable[[int, str], None]
Handler = Callable[[Job, Progress], dict]

# Import paths, resolved when a job runs, so the web process never imports the face pipeline.
HANDLERS: dict[str, str] = {
    "photo": "rooms.services.process_photo_job",
    "crowd": "swaps.services.process_crowd_job",
    "swap": "swaps.services.run_swap_job",
    "ping": "swaps.jobs.ping_job",
}

# Optional append-only log of ping executions: lets process tests prove each job ran once.
PING_LOG_ENV = "CROWDSWAP_PING_LOG"


class JobError(Exception):
    """Fail a job with a message a person can act on, without retrying it."""


class JobTakenOver(Exception):
    """Stop a run whose claim the sweep handed to another run while this one was stalled."""


def worker_identity() -> str:
    """Return a name for this worker process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def requeue_after_seconds() -> int:
    return int(settings.JOB_REQUEUE_AFTER_SECONDS)


def max_attempts() -> int:
    return int(settings.JOB_MAX_ATTEMPTS)


def job_event(job: Job) -> dict[str, Any]:
    """Return the dict pushed to browsers and served by the API for a job."""
    return {
        "id": job.pk,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "stage": job.stage,
        "error": job.error,
        "payload": job.payload,
        "result": job.result,
    }


def _nudge(job_id: int) -> None:
    # A lost nudge is not an error: the sweep re-sends it, so a Redis hiccup never breaks a request.
    try:
        async_to_sync(get_channel_layer().send)(settings.JOBS_CHANNEL, {"type": "job.run", "job_id": job_id})
    except Exception:
        logger.warning("could not nudge job %s; the sweep will pick it up", job_id, exc_info=True)


def nudge_on_commit(job_id: int) -> None:
    """Send the job's nudge once the current transaction (if any) commits."""
    transaction.on_commit(lambda: _nudge(job_id))


def _push(job: Job) -> None:
    if not job.room_id:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(
            Room(pk=job.room_id).group_name,
            {"type": "job.event", "job": job_event(job)},
        )
    except Exception:
        # Progress is a courtesy: the row holds the truth and pages fall back to polling.
        logger.warning("could not push progress of job %s", job.pk, exc_info=True)


def push_on_commit(job: Job) -> None:
    """Push the job's current state to its room's group once the transaction commits."""
    transaction.on_commit(lambda: _push(job))


def enqueue(*, kind: str, room: Room | None, payload: dict) -> Job:
    """Create a queued job and nudge a worker after the transaction commits."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = Job.objects.create(kind=kind, room=room, payload=payload, queued_at=timezone.now())
    nudge_on_commit(job.pk)
    push_on_commit(job)
    return job


def claim(job_id: int, *, worker_id: str) -> Job | None:
    """Mark a queued job as running for this worker; return it, or None if someone else has it."""
    now = timezone.now()
    updated = Job.objects.filter(id=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING,
        worker_id=worker_id,
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
        progress=0,
        stage="Starting",
        error="",
    )
    if updated != 1:
        return None
    return Job.objects.get(id=job_id)


def _owned(job: Job) -> Any:
    """Return a queryset matching the job only while this run still owns its claim."""
    return Job.objects.filter(id=job.pk, status=Job.Status.RUNNING, worker_id=job.worker_id, attempts=job.attempts)


class _Heartbeat(threading.Thread):
    """Keep heartbeat_at fresh during long stages that do not report progress."""

    def __init__(self, job: Job, interval: float) -> None:
        super().__init__(name=f"heartbeat-{job.pk}", daemon=True)
        self.job = job
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    _owned(self.job).update(heartbeat_at=timezone.now())
                except Exception:
                    logger.warning("heartbeat of job %s failed", self.job.pk, exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=self.interval + 5)


def _progress_reporter(job: Job) -> Progress:
    def progress(percent: int, stage: str) -> None:
        job.progress = max(0, min(100, int(percent)))
        job.stage = stage[:80]
        if not _owned(job).update(progress=job.progress, stage=job.stage, heartbeat_at=timezone.now()):
            raise JobTakenOver(f"job {job.pk} now belongs to another run")
        _push(job)

    return progress


def _finish(job: Job, **fields: Any) -> bool:
    fields.setdefault("finished_at", timezone.now())
    if _owned(job).update(**fields) != 1:
        # The sweep gave the job to another run while this one was stalled: its outcome wins.
        logger.warning("job %s was taken over; dropping this run's outcome", job.pk)
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    _push(job)
    return True


def run_job(job_id: int, *, worker_id: str) -> None:
    """Claim a job, run its handler and record the outcome; a second delivery does nothing."""
    # Unique per run, so a worker that gets the same job back after a requeue never confuses claims.
    job = claim(job_id, worker_id=f"{worker_id}:{uuid.uuid4().hex[:8]}")
    if job is None:
        logger.info("job %s is not queued (already taken or finished); nothing to do", job_id)
        return
    _push(job)
    heartbeat = _Heartbeat(job, interval=max(1.0, requeue_after_seconds() / 4))
    heartbeat.start()
    try:
        handler: Handler = import_string(HANDLERS[job.kind])
        result = handler(job, _progress_reporter(job))
    except JobTakenOver:
        # Handlers are idempotent; the run that owns the claim now records the outcome.
        logger.warning("job %s was taken over mid-run; stopping this run", job.pk)
    except JobError as exc:
        _finish(job, status=Job.Status.FAILED, error=str(exc), stage="Failed")
    except Exception as exc:
        logger.exception("job %s crashed on attempt %s", job.pk, job.attempts)
        if job.attempts < max_attempts():
            requeued = _finish(
                job,
                status=Job.Status.QUEUED,
                queued_at=timezone.now(),
                finished_at=None,
                stage="Retrying",
                error=f"Attempt {job.attempts} failed ({type(exc).__name__}: {exc}); trying again.",
            )
            if requeued:
                _nudge(job.pk)
        else:
            _finish(
                job,
                status=Job.Status.FAILED,
                stage="Failed",
                error=f"Failed after {job.attempts} attempts ({type(exc).__name__}: {exc}). Retry, or try another file.",
            )
    else:
        _finish(job, status=Job.Status.DONE, result=result or {}, progress=100, stage="Done", error="")
    finally:
        heartbeat.stop()


def sweep(*, now: datetime | None = None, requeue_after: int | None = None, attempts_limit: int | None = None) -> int:
    """Re-nudge stale queued jobs and requeue (or fail) running jobs whose worker went quiet."""
    now = now or timezone.now()
    limit = attempts_limit if attempts_limit is not None else max_attempts()
    cutoff = now - timedelta(seconds=requeue_after if requeue_after is not None else requeue_after_seconds())
    touched = 0

    for job in Job.objects.filter(status=Job.Status.QUEUED, queued_at__lt=cutoff).only("id", "queued_at"):
        # Moving queued_at forward re-arms the deadline, so each sweep re-sends a nudge at most once.
        if Job.objects.filter(id=job.pk, status=Job.Status.QUEUED, queued_at=job.queued_at).update(queued_at=now):
            _nudge(job.pk)
            touched += 1

    stale_running = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    for job in stale_running:
        owned = Job.objects.filter(id=job.pk, status=Job.Status.RUNNING, worker_id=job.worker_id, attempts=job.attempts)
        if job.attempts < limit:
            if owned.update(status=Job.Status.QUEUED, queued_at=now, stage="Waiting for a worker", worker_id=""):
                _nudge(job.pk)
                touched += 1
                logger.info("requeued job %s: its worker stopped responding", job.pk)
        else:
            message = (
                f"Tried {job.attempts} times; the worker stopped responding each time. Retry, or try a smaller photo."
            )
            if owned.update(status=Job.Status.FAILED, error=message, stage="Failed", finished_at=now):
                touched += 1
                job.refresh_from_db()
                _push(job)
    return touched


def retry(*, job: Job) -> Job:
    """Put a failed job back in the queue from scratch and nudge a worker."""
    with transaction.atomic():
        updated = Job.objects.filter(id=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED,
            attempts=0,
            progress=0,
            stage="Queued",
            error="",
            result={},
            worker_id="",
            queued_at=timezone.now(),
            started_at=None,
            heartbeat_at=None,
            finished_at=None,
        )
        if updated != 1:
            raise JobError("Only a failed job can be retried.")
        job.refresh_from_db()
        nudge_on_commit(job.pk)
        push_on_commit(job)
    return job


class Sweeper(threading.Thread):
    """Sweep at start and then every interval seconds, in a daemon thread of the worker."""

    def __init__(self, interval: float) -> None:
        super().__init__(name="job-sweeper", daemon=True)
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            try:
                close_old_connections()
                count = sweep()
                if count:
                    logger.info("sweep re-sent %s job(s)", count)
            except Exception:
                # A locked database or a Redis blip must not kill the sweeper: try again next round.
                logger.warning("sweep failed", exc_info=True)
            if self.stopped.wait(self.interval):
                break
        connection.close()


def ping_job(job: Job, progress: Progress) -> dict:
    """Spend payload["seconds"] in one-second progress steps; used by health checks and tests."""
    seconds = max(0, min(int(job.payload.get("seconds", 0)), 600))
    log_path = os.environ.get(PING_LOG_ENV)
    _log_ping(log_path, "start", job)
    for step in range(seconds):
        progress(int(100 * step / seconds), f"Step {step + 1} of {seconds}")
        time.sleep(1)
    if job.payload.get("fail"):
        raise JobError(str(job.payload["fail"]))
    _log_ping(log_path, "done", job)
    return {"pong": True, "worker": worker_identity(), "seconds": seconds}


def _log_ping(path: str | None, event: str, job: Job) -> None:
    if not path:
        return
    # One short O_APPEND write per line stays whole even with several workers writing at once.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{event} {job.pk} {os.getpid()} {job.attempts}\n".encode())
    finally:
        os.close(fd)
