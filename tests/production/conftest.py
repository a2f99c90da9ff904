"""Fixtures for production-topology tests: a throwaway PostgreSQL and a local S3 endpoint."""

import runpy
import shutil
import tempfile
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
