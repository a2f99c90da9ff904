"""The room's progress socket: its owner sees every job of the room move, live."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from rooms.access import get_room_for_owner


@database_sync_to_async
def _owned_room_group(user: Any, room_id: int) -> str | None:
    try:
        return get_room_for_owner(user, room_id).group_name
    except Http404:
        return None


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
