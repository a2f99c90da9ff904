"""Health checks: liveness (/healthz), readiness (/readyz) and a WebSocket that proves the socket path works."""

import asyncio
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a liveness probe: the process is up and serving requests (nothing else is checked)."""
    return JsonResponse({"status": "ok"})


def _database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # This runs on a worker thread of its own: give the connection back rather than keep it there.
        connection.close()


async def _redis() -> None:
    if not settings.REDIS_URL:
        return  # no Redis configured: the in-process channel layer and cache need none
    import redis.asyncio

    timeout = settings.READYZ_TIMEOUT_SECONDS
    client = redis.asyncio.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False
    )
    try:
        await client.ping()
    finally:
        await client.aclose()


async def _check(name: str, probe: Any) -> tuple[str, str]:
    started = time.monotonic()
    try:
        await asyncio.wait_for(probe(), timeout=settings.READYZ_TIMEOUT_SECONDS)
    except TimeoutError:
        return name, f"no answer within {settings.READYZ_TIMEOUT_SECONDS:g} s"
    except Exception as error:
        return name, f"failing ({type(error).__name__})"
    return name, f"ok ({(time.monotonic() - started) * 1000:.0f} ms)"


async def readyz(request: HttpRequest) -> JsonResponse:
    """Answer a readiness probe: 200 when the database and Redis answer in time, else 503 naming what fails."""
    results = dict(
        await asyncio.gather(
            _check("database", sync_to_async(_database, thread_sensitive=False)),
            _check("redis", _redis),
        )
    )
    failing = [name for name, result in results.items() if not result.startswith("ok")]
    body = {"status": "unavailable" if failing else "ok", "checks": results}
    if failing:
        body["failing"] = failing
    return JsonResponse(body, status=503 if failing else 200)


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Accept a WebSocket and answer pings, so deployments can check the socket path."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"status": "ok"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"status": "ok", "echo": content})
