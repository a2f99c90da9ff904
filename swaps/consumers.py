"""Channels consumers: the background-job worker and the WebSocket health check."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class JobWorkerConsumer(SyncConsumer):
    """Run background jobs named in messages on the jobs channel (manage.py runworker)."""

    def health_ping(self, message: dict[str, Any]) -> None:
        # Proves a message reached a worker process: answer on the channel the sender named.
        reply_to = message.get("reply_channel")
        if reply_to:
            import os
            import socket

            async_to_sync(self.channel_layer.send)(
                reply_to,
                {"type": "health.pong", "token": message.get("token"), "worker": f"{socket.gethostname()}:{os.getpid()}"},
            )


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Accept a WebSocket and answer pings, so deployments can check the socket path."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"status": "ok"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"status": "ok", "echo": content})
