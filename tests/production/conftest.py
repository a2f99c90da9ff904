"""Fixtures for production-topology tests: a throwaway PostgreSQL and a local S3 endpoint."""

import os
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.postgres import ROOT, PostgresServer, PostgresUnavailable

_DB_DIR = Path(tempfile.mkdtemp(prefix="crowdswap-test-db-"))


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    # Racing threads need a real SQLite file (WAL, busy timeout): the shared in-memory test database
    # fails concurrent writers at once with "table is locked". tests/swaps does the same for workers.
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
        database.setdefault("TEST", {})["NAME"] = str(_DB_DIR / "test.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_DB_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Start a private PostgreSQL on 127.0.0.1 for the session; skip only where its binaries are absent."""
    try:
        server = PostgresServer()
    except PostgresUnavailable as exc:
        pytest.skip(str(exc))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Start moto's S3 server on 127.0.0.1 for the session; yield its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


S3_REGION = "eu-west-1"
S3_EXPIRE = 120


@dataclass
class S3:
    """The S3 media settings in force for a test, and a plain boto3 client to inspect the bucket."""

    endpoint: str
    bucket: str
    settings: dict[str, Any]
    client: Any

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture
def s3(s3_endpoint: str, settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> S3:
    """Switch media to a fresh bucket, configured by crowdswap/settings.py from production-style variables."""
    import boto3

    bucket = f"crowdswap-{uuid.uuid4().hex[:12]}"
    env = {
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "AWS_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_DEFAULT_REGION": S3_REGION,
        "AWS_QUERYSTRING_EXPIRE": str(S3_EXPIRE),
        # boto3 reads credentials from the standard variables, as on a real host; never a real profile.
        "AWS_ACCESS_KEY_ID": "test-access-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret-key",
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
    }
    for name in ("AWS_S3_REGION_NAME", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_LOCATION", "AWS_S3_ADDRESSING_STYLE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    # Evaluate the real settings module with these variables, so the test exercises its S3 block.
    computed = runpy.run_path(str(ROOT / "crowdswap" / "settings.py"))
    aws = {name: value for name, value in computed.items() if name.startswith("AWS_")}
    for name, value in aws.items():
        setattr(settings, name, value)
    # Setting STORAGES resets default_storage (Django's setting_changed), so it is rebuilt from the above.
    settings.STORAGES = {**settings.STORAGES, "default": computed["STORAGES"]["default"]}

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=S3_REGION)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    return S3(endpoint=s3_endpoint, bucket=bucket, settings=aws, client=client)


# ---------------------------------------------------------------- hosts started with ./setup.sh (scale and load)


def free_ports(count: int) -> int:
    """Return the first of `count` consecutive TCP ports on 127.0.0.1 that are free right now."""
    import socket

    for _ in range(200):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            base = first.getsockname()[1]
            others = []
            try:
                for offset in range(1, count):
                    sock = socket.socket()
                    others.append(sock)
                    sock.bind(("127.0.0.1", base + offset))
            except OSError:
                continue
            finally:
                for sock in others:
                    sock.close()
            return base
    raise RuntimeError(f"no {count} consecutive free ports on 127.0.0.1")


class Host:
    """One machine of the topology: `./setup.sh run` (web and workers) or `./setup.sh worker`."""

    def __init__(self, name: str, proc: Any, log: Path, *, web_ports: list[int], workers: int) -> None:
        self.name = name
        self.proc = proc
        self.log = log
        self.web_ports = web_ports
        self.workers = workers

    @property
    def base_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.web_ports]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def assert_alive(self) -> None:
        if self.proc.poll() is not None:
            pytest.fail(f"host {self.name} (setup.sh) exited with {self.proc.returncode}:\n{self.output()[-6000:]}")

    def ready(self) -> bool:
        """Return whether every web process answers /healthz and every worker listens on the jobs channel."""
        import urllib.request

        self.assert_alive()
        if self.output().count("Running worker for channels") < self.workers:
            return False
        for url in self.base_urls:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                    if response.status != 200:
                        return False
            except OSError:
                return False
        return True


class Deployment:
    """Hosts sharing one database, one Redis and one media folder, as separate machines would share them."""

    def __init__(self, root: Path, *, database_url: str, redis_url: str) -> None:
        self.root = root
        self.media_root = root / "media"
        self.media_root.mkdir(parents=True, exist_ok=True)
        drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "MEDIA_ROOT", "AWS_STORAGE_BUCKET_NAME"}
        self.env = {k: v for k, v in os.environ.items() if k not in drop}
        self.env.update(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            # On many machines this would be S3; one local folder shared by every host stands in for it.
            MEDIA_ROOT=str(self.media_root),
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="INFO",
            # Nudges sent before a worker listened expire in Redis; the sweep re-sends them this soon.
            JOB_REQUEUE_AFTER_SECONDS="20",
        )
        self.hosts: list[Host] = []

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run a manage.py command against the shared services; return its output, fail the test on error."""
        return self._run(["manage.py", *args], f"manage.py {args[0]}", timeout)

    def python(self, *args: str, timeout: float = 300) -> str:
        """Run `python <args>` with the shared services' environment; return stdout, fail the test on error."""
        return self._run(list(args), f"python {' '.join(args)}", timeout)

    def _run(self, args: list[str], what: str, timeout: float) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=ROOT,
            env={**self.env, "CROWDSWAP_VAR_DIR": str(self.root / "manage")},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            pytest.fail(f"{what} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def start_host(self, name: str, *, web: int, workers: int, extra_env: dict[str, str] | None = None) -> Host:
        """Start ./setup.sh on a private var dir: `run` with web processes, or `worker` mode without."""
        port = free_ports(max(web, 1))
        env = {
            **self.env,
            **(extra_env or {}),
            "CROWDSWAP_VAR_DIR": str(self.root / name),
            "PORT": str(port),
            "WEB_PROCESSES": str(web),
            "WORKER_PROCESSES": str(workers),
            "MIGRATE": "0",  # migrated once before any host starts, as a deploy does
        }
        log = self.root / f"{name}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(ROOT / "setup.sh"), "run" if web else "worker"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so teardown can reach every child
            )
        host = Host(name, proc, log, web_ports=[port + i for i in range(web)], workers=workers)
        self.hosts.append(host)
        return host

    def wait_ready(self, *hosts: Host, timeout: float = 240) -> None:
        """Wait until the hosts serve and listen; fail with their logs on timeout."""
        deadline = time.monotonic() + timeout
        while not all(host.ready() for host in hosts):
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {h.name} ---\n{h.output()[-4000:]}" for h in hosts)
                pytest.fail(f"hosts not ready after {timeout} s:\n{logs}")
            time.sleep(0.5)

    def logs(self) -> str:
        return "\n".join(f"--- {h.name} ---\n{h.output()[-4000:]}" for h in self.hosts)

    def stop(self) -> None:
        """Stop every host as Ctrl-C would, then kill whatever is left of their process groups."""
        import signal

        import psutil

        children: list[Any] = []
        for host in self.hosts:
            try:
                children += psutil.Process(host.proc.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                pass
            if host.proc.poll() is None:
                host.proc.send_signal(signal.SIGTERM)
        for host in self.hosts:
            try:
                host.proc.wait(40)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(host.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if host.proc.poll() is None:
                host.proc.wait(10)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


@pytest.fixture
def deployment(postgres_server: PostgresServer, redis_url: str, tmp_path: Path) -> Iterator[Deployment]:
    """Yield a migrated PostgreSQL database, a Redis and a shared media folder; every host is stopped at teardown."""
    url = postgres_server.create_database(f"deploy_{uuid.uuid4().hex[:10]}")
    deployment = Deployment(tmp_path, database_url=url, redis_url=redis_url)
    deployment.manage("migrate", "--noinput")
    try:
        yield deployment
    finally:
        deployment.stop()
