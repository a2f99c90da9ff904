"""WebSocket for a challenge's live leaderboard: names and scores, nothing about positions."""

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from swaps.models import Swap


@database_sync_to_async
def _leaderboard_for(token: str, user: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """Return (group, current entries) if this socket may watch the challenge: published, or the host's own."""
    from rooms import play

    swap = Swap.objects.select_related("room").filter(share_token=token).first()
    if swap is None:
        return None
    is_host = bool(user and user.is_authenticated and swap.room.owner_id == user.pk)
    if not (swap.is_playable or is_host):
        return None
    return swap.leaderboard_group, play.leaderboard(swap)


class LeaderboardConsumer(AsyncJsonWebsocketConsumer):
    """Push a challenge's leaderboard to everyone on its play page and to its host."""

    group_name: str | None = None

    async def connect(self) -> None:
        token = str(self.scope["url_route"]["kwargs"]["token"])
        found = await _leaderboard_for(token, self.scope.get("user"))
        if found is None:
            await self.close(code=4404)
            return
        self.group_name, entries = found
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "leaderboard", "entries": entries})

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def leaderboard_update(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "leaderboard", "entries": event["entries"]})
