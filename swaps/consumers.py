"""Channels consumers: the background-job worker, the room progress socket and the health check."""

import os
import socket
from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from rooms.models import Room


class JobWorkerConsumer(SyncConsumer):
    """Run background jobs named in messages on the jobs channel (manage.py runworker)."""

    def job_run(self, message: dict[str, Any]) -> None:
        from swaps import jobs

        jobs.run_job(int(message["job_id"]), worker_id=jobs.worker_identity())

    def health_ping(self, message: dict[str, Any]) -> None:
        # Proves a message reached a worker process: answer on the channel the sender named.
        reply_to = message.get("reply_channel")
        if reply_to:
            async_to_sync(self.channel_layer.send)(
                reply_to,
                {
                    "type": "health.pong",
                    "token": message.get("token"),
                    "worker": f"{socket.gethostname()}:{os.getpid()}",
                },
            )


@database_sync_to_async
def _owned_room_group(user: Any, room_id: int) -> str | None:
    if not user or not user.is_authenticated:
        return None
    room = Room.objects.filter(id=room_id, owner=user).only("id").first()
    return room.group_name if room else None


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """Stream a room's job progress to its owner; everybody else is refused."""

    group_name: str | None = None

    async def connect(self) -> None:
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        self.group_name = await _owned_room_group(self.scope.get("user"), room_id)
        if self.group_name is None:
            # Same answer for "no such room" and "not yours": a stranger learns nothing.
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def job_event(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "job", "job": event["job"]})


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """Accept a WebSocket and answer pings, so deployments can check the socket path."""

    async def connect(self) -> None:
        await self.accept()
        await self.send_json({"status": "ok"})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        await self.send_json({"status": "ok", "echo": content})
