"""Fixtures for the jobs engine: an embedded Redis, a file database and real runworker processes."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_DB_DIR = Path(tempfile.mkdtemp(prefix="crowdswap-test-db-"))


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Worker subprocesses must see the rows the tests write, so the test database is a file,
    # not SQLite's private in-memory database. (WAL mode and a lock timeout come from settings.)
    settings.DATABASES["default"].setdefault("TEST", {})
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        settings.DATABASES["default"]["TEST"]["NAME"] = str(_DB_DIR / "test.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DB_DIR, ignore_errors=True)


@pytest.fixture
def redis_channel_layer(settings, redis_url: str) -> str:
    """Switch this process's channel layer to the embedded Redis, as the web process would use."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [redis_url], "prefix": "crowdswap"},
        }
    }
    return redis_url


class Workers:
    """Start and stop `manage.py runworker crowdswap-jobs` subprocesses sharing the test database."""

    def __init__(self, tmp_path: Path, redis_url: str, database_url: str, media_root: str) -> None:
        self.tmp_path = tmp_path
        self.ping_log = tmp_path / "pings.log"
        self.env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        self.env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CHANNELS_PREFIX="crowdswap",
            MEDIA_ROOT=media_root,
            CROWDSWAP_PING_LOG=str(self.ping_log),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
        )
        self.procs: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(self, *, sweep_interval: float = 60, requeue_after: int = 60, max_attempts: int = 3) -> subprocess.Popen:
        log = self.tmp_path / f"worker{len(self.procs) + 1}.log"
        env = {
            **self.env,
            "JOB_REQUEUE_AFTER_SECONDS": str(requeue_after),
            "JOB_MAX_ATTEMPTS": str(max_attempts),
        }
        with log.open("w") as out:
            proc = subprocess.Popen(
                [sys.executable, "manage.py", "runworker", "crowdswap-jobs", "--sweep-interval", str(sweep_interval)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def ping_lines(self) -> list[tuple[str, int, int, int]]:
        """Return (event, job id, pid, attempt) for every ping start/done the workers logged."""
        if not self.ping_log.exists():
            return []
        rows = []
        for line in self.ping_log.read_text().splitlines():
            event, job_id, pid, attempt = line.split()
            rows.append((event, int(job_id), int(pid), int(attempt)))
        return rows

    def wait_until(self, predicate: Callable[[], bool], *, what: str, timeout: float = 120) -> None:
        """Poll predicate until it holds; fail with the workers' logs if a worker dies or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            self.assert_alive()
            time.sleep(0.2)
        pytest.fail(f"timed out after {timeout} s waiting for {what}\n{self.diagnose()}")

    def wait_ready(self, timeout: float = 120) -> None:
        """Wait until every worker has loaded its models and listens on the jobs channel."""
        self.wait_until(
            lambda: all("Running worker for channels" in log.read_text() for log in self.logs),
            what="the workers to listen",
            timeout=timeout,
        )

    def diagnose(self) -> str:
        parts = []
        for proc, log in zip(self.procs, self.logs, strict=True):
            parts.append(f"--- {log.name} (pid {proc.pid}, exit {proc.poll()}) ---\n{log.read_text()[-12000:]}")
        return "\n".join(parts)

    def assert_alive(self) -> None:
        dead = [p for p in self.procs if p.poll() is not None and p.returncode != -9]
        if dead:
            pytest.fail(f"a worker exited on its own:\n{self.diagnose()}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass


def database_url_for(db: dict) -> str:
    """Return a DATABASE_URL that points a subprocess at the test database this process uses."""
    engine, name = db["ENGINE"], str(db["NAME"])
    if engine.endswith("sqlite3"):
        if name.startswith(("file:", ":memory:")) or not name:
            pytest.fail(f"worker tests need a file database shared with the workers, got {name!r}")
        return f"sqlite:///{name}"
    if engine.endswith("postgresql"):
        from urllib.parse import quote

        auth = f"{quote(db['USER'])}:{quote(db['PASSWORD'])}@" if db.get("USER") else ""
        return f"postgres://{auth}{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{quote(name)}"
    pytest.fail(f"worker tests do not know how to share a {engine} database with subprocesses")


@pytest.fixture
def workers(transactional_db, redis_channel_layer: str, settings, tmp_path: Path) -> Iterator[Workers]:
    """Yield a factory of real runworker processes; every one is killed at teardown."""
    from django.core.management import get_commands
    from django.db import connection

    if get_commands().get("runworker") != "crowdswap.jobs":
        pytest.fail(
            "manage.py runworker resolves to channels' command, not the job engine's: "
            "list 'crowdswap.jobs' before 'channels' in INSTALLED_APPS"
        )
    pool = Workers(tmp_path, redis_channel_layer, database_url_for(connection.settings_dict), str(settings.MEDIA_ROOT))
    try:
        yield pool
    finally:
        pool.stop()
