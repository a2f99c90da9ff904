"""The kinds of job the apps register: what runs, what happens after a final failure, and on a retry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crowdswap.jobs.models import Job

Progress = Callable[[int, str], None]


class JobError(Exception):
    """Fail a job with a message a person can act on, without retrying it."""


@dataclass(frozen=True)
class Kind:
    """One kind of background job, registered by the app that owns the rows it works on.

    ``run`` does the work and returns a JSON-safe result; it must be safe to run twice (a requeued
    job starts again from the beginning). ``failed`` is called once the job has failed for good (a
    JobError, the last attempt crashing, or the sweep giving up on a silent worker), inside the same
    transaction, so the domain row always ends in a state its page can show with the reason; its
    second argument is the JobError's message, or None when the job crashed or its worker went silent.
    ``retried`` is called when the owner queues a failed job again.
    """

    name: str
    label: str
    run: Callable[[Job, Progress], dict]
    failed: Callable[[Job, str | None], None] | None = None
    retried: Callable[[Job], None] | None = None


# name -> kind; filled from the AppConfig.ready() of each app that owns kinds.
REGISTRY: dict[str, Kind] = {}
# Things a worker process prepares before its first job (e.g. loading face models).
WARMUPS: list[Callable[[], None]] = []


def register(kind: Kind) -> Kind:
    """Make ``kind`` known to enqueue and to the workers; registering the same kind twice is harmless."""
    known = REGISTRY.get(kind.name)
    if known is not None and known != kind:
        raise ValueError(f"job kind {kind.name!r} is registered twice with different handlers")
    REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    """Return the registered kind called ``name``; LookupError when no app registered it."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise LookupError(f"unknown job kind {name!r}") from None


def register_warmup(prepare: Callable[[], None]) -> None:
    """Ask every worker process to call ``prepare`` once before its first job."""
    if prepare not in WARMUPS:
        WARMUPS.append(prepare)
