"""Race one process's threads to claim the same jobs: `python -m tests.production.claim_race`.

Several of these processes, started at once against one database, stand in for workers on
several machines: each thread tries to claim every job in the same order, and the process
prints the ids it won as JSON so the test can check that every job was won exactly once.
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--create", type=int, default=0, help="create this many queued ping jobs, print their ids")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--go-file", type=Path, help="wait for this file before racing, so processes start together")
    parser.add_argument("--ids", default="", help="comma-separated job ids to race for")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdswap.settings")
    import django

    django.setup()
    from django.db import connection

    from crowdswap.jobs import engine as jobs
    from crowdswap.jobs.models import Job
    from crowdswap.jobs.ping import PING

    if args.create:
        ids = [jobs.enqueue(kind=PING, payload={"seconds": 0}).pk for _ in range(args.create)]
        print(json.dumps({"ids": ids, "vendor": connection.vendor}))
        return 0

    ids = [int(i) for i in args.ids.split(",") if i]
    won: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    connected = threading.Barrier(args.threads + 1, timeout=300)
    start = threading.Barrier(args.threads + 1, timeout=300)

    def racer(number: int) -> None:
        try:
            # Connect before the start signal, so the race is between claims, not connection setups.
            Job.objects.exists()
            connected.wait()
            start.wait()
            for job_id in ids:
                job = jobs.claim(job_id, worker_id=f"{os.getpid()}-{number}")
                if job is not None:
                    with lock:
                        won.append(job_id)
        except Exception as exc:  # reported to the test, which fails with it
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=racer, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    connected.wait()
    if args.go_file:
        # Tell the test this process is connected and waiting, so it can fire all processes at once.
        args.go_file.with_name(f"ready-{os.getpid()}").touch()
    deadline = time.monotonic() + 300
    while args.go_file and not args.go_file.exists():
        if time.monotonic() > deadline:
            print("start signal never came", file=sys.stderr)
            return 2
        time.sleep(0.01)
    start.wait()
    for thread in threads:
        thread.join()
    print(json.dumps({"won": won, "errors": errors, "vendor": connection.vendor}))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
