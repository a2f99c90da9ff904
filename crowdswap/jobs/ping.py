"""The ping job: proves a worker runs jobs end to end (health checks, process tests)."""

import os
import time

from crowdswap.jobs.engine import worker_identity
from crowdswap.jobs.kinds import JobError, Kind, Progress
from crowdswap.jobs.models import Job

# Optional append-only log of ping executions: lets process tests prove each job ran once.
PING_LOG_ENV = "CROWDSWAP_PING_LOG"


def run_ping(job: Job, progress: Progress) -> dict:
    """Spend payload["seconds"] in one-second progress steps; fail with payload["fail"] if given."""
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


PING = Kind(name="ping", label="Health check", run=run_ping)
