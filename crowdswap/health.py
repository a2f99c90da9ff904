"""Health checks: the load balancer's HTTP probe and a WebSocket that proves the socket path works."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Answer a load balancer's health check."""
    return JsonResponse({"status": "ok"})


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Accept a WebSocket and answer pings, so deployments can check the socket path."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"status": "ok"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"status": "ok", "echo": content})
