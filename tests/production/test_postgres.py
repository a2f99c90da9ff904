"""PostgreSQL: migrations apply cleanly, and a job is claimed exactly once by racing workers."""

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from crowdswap.jobs import engine as jobs
from crowdswap.jobs.models import Job
from tests.postgres import ROOT, PostgresServer

Claim = Callable[[int, str], Job | None]


def django_env(database_url: str) -> dict[str, str]:
    """Return an environment for a manage.py subprocess on this database, with no other external service."""
    drop = {"DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(DATABASE_URL=database_url, PYTHONUNBUFFERED="1")
    return env


def manage(database_url: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run a manage.py command against a database; fail the test with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=django_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        pytest.fail(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def tables(database_url: str) -> set[str]:
    """Return the names of the tables in a PostgreSQL database."""
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        return {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.mark.postgres
def test_migrations_apply_cleanly_and_reverse_on_postgres(postgres_server: PostgresServer):
    url = postgres_server.create_database("migrations")
    manage(url, "migrate", "--noinput")
    plan = manage(url, "showmigrations", "--plan").stdout
    assert "[X]" in plan and "[ ]" not in plan, plan
    manage(url, "makemigrations", "--check", "--dry-run")

    ours = {"rooms_room", "rooms_photo", "jobs_job", "swaps_crowdphoto", "swaps_player", "swaps_guess"}
    assert ours <= tables(url)

    # Unapplying our apps and applying them again catches migrations that only work one way.
    # (swaps first: the job engine's first migrations take its Job model over from it, so they go with it.)
    manage(url, "migrate", "swaps", "zero", "--noinput")
    manage(url, "migrate", "rooms", "zero", "--noinput")
    manage(url, "migrate", "jobs", "zero", "--noinput")
    assert not {name for name in tables(url) if name.startswith(("rooms_", "swaps_", "jobs_"))}
    manage(url, "migrate", "--noinput")
    assert ours <= tables(url)


@pytest.fixture(scope="module")
def claim_database(postgres_server: PostgresServer) -> str:
    """Return the URL of a migrated database for the cross-process race."""
    url = postgres_server.create_database("claims")
    manage(url, "migrate", "--noinput")
    return url


@pytest.mark.postgres
@pytest.mark.processes
def test_job_claim_is_exactly_once_across_worker_processes(claim_database: str, tmp_path: Path):
    created = subprocess.run(
        [sys.executable, "-m", "tests.production.claim_race", "--create", "40"],
        cwd=ROOT,
        env=django_env(claim_database),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert created.returncode == 0, created.stderr
    report = json.loads(created.stdout.splitlines()[-1])
    assert report["vendor"] == "postgresql"
    ids = report["ids"]

    go = tmp_path / "go"
    processes = 4
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.production.claim_race", "--threads", "4", "--go-file", str(go)]
            + ["--ids", ",".join(map(str, ids))],
            cwd=ROOT,
            env=django_env(claim_database),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        # Fire only when every process has its threads connected, so all 16 claim at once.
        deadline = time.monotonic() + 300
        while len(list(tmp_path.glob("ready-*"))) < processes:
            dead = [p for p in racers if p.poll() is not None]
            assert not dead, dead[0].communicate()[1]
            assert time.monotonic() < deadline, "racers never got ready"
            time.sleep(0.05)
        go.touch()
        outputs = [p.communicate(timeout=300) for p in racers]
    finally:
        for p in racers:
            if p.poll() is None:
                p.kill()
                p.wait(30)

    won: Counter[int] = Counter()
    for (stdout, stderr), proc in zip(outputs, racers, strict=True):
        assert proc.returncode == 0, f"{stdout}\n{stderr}"
        result = json.loads(stdout.splitlines()[-1])
        assert result["vendor"] == "postgresql"
        won.update(result["won"])
    assert sorted(won) == sorted(ids), "every job must be claimed by some worker"
    assert {job_id: n for job_id, n in won.items() if n != 1} == {}, "a job was claimed more than once"

    with psycopg.connect(claim_database.replace("postgres://", "postgresql://", 1)) as conn:
        rows = conn.execute("SELECT status, attempts, count(*) FROM jobs_job GROUP BY status, attempts").fetchall()
    assert rows == [("running", 1, len(ids))]


def race(claim: Claim, job_ids: list[int], threads: int) -> dict[int, list[str]]:
    """Let every thread claim each job at the same moment; return the winners of each job."""
    winners: dict[int, list[str]] = {job_id: [] for job_id in job_ids}
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads, timeout=120)
    lock = threading.Lock()

    def racer(name: str) -> None:
        try:
            for job_id in job_ids:
                barrier.wait()  # line up before every job, so the claims really collide
                if claim(job_id, name) is not None:
                    with lock:
                        winners[job_id].append(name)
        except BaseException as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    pool = [threading.Thread(target=racer, args=(f"worker-{n}",)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in pool), "a racing thread hung"
    if errors:
        raise errors[0]
    return winners


def read_then_write_claim(barrier: threading.Barrier) -> Claim:
    """Return the racy claim a conditional UPDATE avoids: check the status, then write it."""

    def claim(job_id: int, worker_id: str) -> Job | None:
        job = Job.objects.get(id=job_id)
        barrier.wait()  # every racer has read QUEUED before anyone writes: the classic lost update
        if job.status != Job.Status.QUEUED:
            return None
        Job.objects.filter(id=job_id).update(status=Job.Status.RUNNING, worker_id=worker_id)
        return job

    return claim


@pytest.fixture
def queued_jobs(transactional_db) -> list[int]:
    """Return ids of queued jobs committed where every thread's own connection sees them."""
    return [Job.objects.create(kind="ping", payload={"seconds": 0}).pk for _ in range(10)]


@pytest.mark.postgres_too
def test_race_harness_catches_a_read_then_write_claim(queued_jobs: list[int]):
    threads = 4
    winners = race(read_then_write_claim(threading.Barrier(threads, timeout=120)), queued_jobs, threads)
    assert all(len(names) == threads for names in winners.values())


@pytest.mark.postgres_too
def test_concurrent_claims_on_the_test_database_grant_each_job_once(queued_jobs: list[int]):
    winners = race(lambda job_id, name: jobs.claim(job_id, worker_id=name), queued_jobs, threads=6)
    assert {job_id: len(names) for job_id, names in winners.items()} == dict.fromkeys(queued_jobs, 1)
    assert set(Job.objects.values_list("status", "attempts")) == {(Job.Status.RUNNING, 1)}
