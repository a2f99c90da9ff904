"""One job lifecycle: enqueue, claim, run, heartbeat, finish or fail, retry, and the sweep.

Channels delivers at most once and channels_redis drops messages older than 60 s, so every
step here is driven by the row: a worker claims it with one conditional UPDATE, heartbeats
while it runs, and records the outcome only if it still owns the claim. A sweep re-sends
nudges for rows that nobody picked up and requeues rows whose worker stopped heartbeating.
A job that fails for good, whichever way, goes through `_fail_for_good`, which calls its kind's
`failed` hook in the same transaction, so the domain row never stays "processing" forever.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from crowdswap.jobs import kinds
from crowdswap.jobs.kinds import JobError, Kind, Progress
from crowdswap.jobs.models import Job
from crowdswap.lib.errors import Conflict

logger = logging.getLogger(__name__)


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


def _push(job: Job) -> None:
    if not job.group_name:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(job.group_name, {"type": "job.event", "job": job_event(job)})
    except Exception:
        # Progress is a courtesy: the row holds the truth and pages fall back to polling.
        logger.warning("could not push progress of job %s", job.pk, exc_info=True)


def _after_commit(job: Job, *, nudge: bool) -> None:
    if nudge:
        transaction.on_commit(lambda: _nudge(job.pk))
    transaction.on_commit(lambda: _push(job))


def enqueue(*, kind: Kind, payload: dict[str, Any], owner_id: int | None = None, group_name: str = "") -> Job:
    """Create a queued job of a registered kind and nudge a worker after the transaction commits."""
    if kinds.REGISTRY.get(kind.name) is not kind:
        raise ValueError(f"job kind {kind.name!r} is not registered")
    job = Job.objects.create(
        kind=kind.name, owner_id=owner_id, group_name=group_name, payload=payload, queued_at=timezone.now()
    )
    _after_commit(job, nudge=True)
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


def _owned(job: Job) -> QuerySet[Job]:
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


def _finish(job: Job, owned: QuerySet[Job], **fields: Any) -> bool:
    """Record an outcome if this run (or sweep) still owns the job; push it after commit."""
    fields.setdefault("finished_at", timezone.now())
    if owned.update(**fields) != 1:
        # The sweep gave the job to another run while this one was stalled: its outcome wins.
        logger.warning("job %s was taken over; dropping this outcome", job.pk)
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    _after_commit(job, nudge=False)
    return True


def _fail_for_good(job: Job, owned: QuerySet[Job], message: str, *, reason: str | None = None) -> bool:
    """Mark the job failed and let its kind settle the domain row, in one transaction.

    ``message`` is what the job row says; ``reason`` is the handler's own words (a JobError), if any.
    """
    with transaction.atomic():
        if not _finish(job, owned, status=Job.Status.FAILED, error=message, stage="Failed"):
            return False
        kind = kinds.REGISTRY.get(job.kind)
        if kind is not None and kind.failed is not None:
            kind.failed(job, reason)
    return True


def run_job(job_id: int, *, worker_id: str) -> None:
    """Claim a job, run its handler and record the outcome; a second delivery does nothing."""
    # Unique per run, so a worker that gets the same job back after a requeue never confuses claims.
    job = claim(job_id, worker_id=f"{worker_id}:{uuid.uuid4().hex[:8]}")
    if job is None:
        logger.info("job %s is not queued (already taken or finished); nothing to do", job_id)
        return
    _push(job)
    owned = _owned(job)
    heartbeat = _Heartbeat(job, interval=max(1.0, requeue_after_seconds() / 4))
    heartbeat.start()
    try:
        result = kinds.get(job.kind).run(job, _progress_reporter(job))
    except JobTakenOver:
        # Handlers are idempotent; the run that owns the claim now records the outcome.
        logger.warning("job %s was taken over mid-run; stopping this run", job.pk)
    except JobError as exc:
        _fail_for_good(job, owned, str(exc), reason=str(exc))
    except Exception as exc:
        logger.exception("job %s crashed on attempt %s", job.pk, job.attempts)
        cause = f"{type(exc).__name__}: {exc}"
        if job.attempts < max_attempts():
            requeued = _finish(
                job,
                owned,
                status=Job.Status.QUEUED,
                queued_at=timezone.now(),
                finished_at=None,
                stage="Retrying",
                error=f"Attempt {job.attempts} failed ({cause}); trying again.",
            )
            if requeued:
                _nudge(job.pk)
        else:
            _fail_for_good(job, owned, f"Failed after {job.attempts} attempts ({cause}).")
    else:
        _finish(job, owned, status=Job.Status.DONE, result=result or {}, progress=100, stage="Done", error="")
    finally:
        heartbeat.stop()


def resend_queued(*, queued_before: datetime, now: datetime | None = None) -> int:
    """Nudge a worker again for every job still queued since before the cutoff; return how many."""
    now = now or timezone.now()
    sent = 0
    for job in Job.objects.filter(status=Job.Status.QUEUED, queued_at__lt=queued_before).only("id", "queued_at"):
        # Moving queued_at forward re-arms the deadline, so each sweep re-sends a nudge at most once.
        if Job.objects.filter(id=job.pk, status=Job.Status.QUEUED, queued_at=job.queued_at).update(queued_at=now):
            _nudge(job.pk)
            sent += 1
    return sent


def resend_queued_now() -> None:
    """Re-send every queued job at once (the channel layer came back: nudges sent meanwhile are lost)."""
    try:
        close_old_connections()
        now = timezone.now()
        count = resend_queued(queued_before=now + timedelta(seconds=1), now=now)
        if count:
            logger.info("re-sent %s queued job(s) after the channel layer came back", count)
    except Exception:
        logger.warning("could not re-send queued jobs; the periodic sweep will", exc_info=True)
    finally:
        connection.close()


def sweep(*, now: datetime | None = None, requeue_after: int | None = None, attempts_limit: int | None = None) -> int:
    """Re-nudge stale queued jobs and requeue (or fail) running jobs whose worker went quiet."""
    now = now or timezone.now()
    limit = attempts_limit if attempts_limit is not None else max_attempts()
    cutoff = now - timedelta(seconds=requeue_after if requeue_after is not None else requeue_after_seconds())
    touched = resend_queued(queued_before=cutoff, now=now)

    stale_running = Job.objects.filter(status=Job.Status.RUNNING).filter(
        Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    )
    for job in stale_running:
        owned = _owned(job)
        if job.attempts < limit:
            if owned.update(status=Job.Status.QUEUED, queued_at=now, stage="Waiting for a worker", worker_id=""):
                _nudge(job.pk)
                touched += 1
                logger.info("requeued job %s: its worker stopped responding", job.pk)
        else:
            message = f"Tried {job.attempts} times; the worker stopped responding each time."
            if _fail_for_good(job, owned, message):
                touched += 1
    return touched


def retry(*, job: Job) -> Job:
    """Put a failed job back in the queue from scratch, let its kind reset the domain row, nudge a worker."""
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
            raise Conflict("Only a failed job can be retried.")
        job.refresh_from_db()
        kind = kinds.REGISTRY.get(job.kind)
        if kind is not None and kind.retried is not None:
            kind.retried(job)
        _after_commit(job, nudge=True)
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
