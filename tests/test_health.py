"""Liveness and readiness: /healthz says the process answers, /readyz says whether it can serve (database, Redis)."""

import pytest

from swaps.jobs_bench import free_port

pytestmark = pytest.mark.django_db


def test_healthz_is_liveness_only(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ready_when_the_database_and_redis_answer(client, settings, redis_url):
    settings.REDIS_URL = redis_url
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis"}
    assert all(result.startswith("ok") for result in body["checks"].values())


def test_readyz_names_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["redis"]
    assert body["checks"]["database"].startswith("ok")
    assert body["checks"]["redis"].startswith("failing")


def test_readyz_gives_up_on_a_redis_that_accepts_but_never_answers(client, settings):
    import socket

    # A listening socket nobody accepts from: the connection hangs, the probe must not.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(0)
        settings.REDIS_URL = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.READYZ_TIMEOUT_SECONDS = 0.5
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert "no answer within 0.5 s" in response.json()["checks"]["redis"]


def test_readyz_names_the_database_when_it_fails(client, settings, monkeypatch):
    from crowdswap import health

    def broken() -> None:
        raise ConnectionError("database is down")

    monkeypatch.setattr(health, "_database", broken)
    settings.REDIS_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]
