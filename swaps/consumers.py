"""WebSocket for a challenge's live leaderboard: names and scores, nothing about positions."""

import asyncio
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from crowdswap.lib.errors import Gone
from swaps.access import get_published_swap, get_shared_swap
from swaps.models import Swap
from swaps.services import play

logger = logging.getLogger(__name__)

# Clocks of web hosts differ a little: read a moment after the interval ends so its last changes are in.
CLOCK_SLACK_SECONDS = 0.05

# One read per challenge and interval in this process, shared by every socket watching it.
_board_reads: dict[tuple[int, int, float], asyncio.Future[list[dict[str, Any]]]] = {}


def _watchable(token: str, user: Any) -> Swap | None:
    """Return the swap if this socket may watch its board: a published challenge, or the host's own swap."""
    try:
        return get_published_swap(token)
    except Http404:
        return None
    except Gone:
        swap = get_shared_swap(token)
        is_host = bool(user and user.is_authenticated and swap.room.owner_id == user.pk)
        return swap if is_host else None


@database_sync_to_async
def _leaderboard_for(token: str, user: Any) -> tuple[Swap, list[dict[str, Any]]] | None:
    """Return (swap, current entries) if this socket may watch the challenge."""
    swap = _watchable(token, user)
    if swap is None:
        return None
    return swap, play.leaderboard(swap)


@database_sync_to_async
def _read_board(swap: Swap) -> list[dict[str, Any]]:
    return play.leaderboard(swap)


async def _board_at(swap: Swap, read_at: float) -> list[dict[str, Any]]:
    delay = read_at + CLOCK_SLACK_SECONDS - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
    return await _read_board(swap)


def board_after(swap: Swap, read_at: float) -> asyncio.Future[list[dict[str, Any]]]:
    """Return the leaderboard as it stands at `read_at` (Unix time), read once for all sockets of this process."""
    # The loop is part of the key: a read belongs to the loop that runs it (tests run one loop per test).
    key = (id(asyncio.get_running_loop()), swap.pk, read_at)
    read = _board_reads.get(key)
    if read is None:
        read = asyncio.ensure_future(_board_at(swap, read_at))
        _board_reads[key] = read
        read.add_done_callback(lambda _: _board_reads.pop(key, None))
    return read


class LeaderboardConsumer(AsyncJsonWebsocketConsumer):
    """Push a challenge's leaderboard to everyone on its play page and to its host."""

    group_name: str | None = None
    swap: Swap | None = None

    async def connect(self) -> None:
        token = str(self.scope["url_route"]["kwargs"]["token"])
        found = await _leaderboard_for(token, self.scope.get("user"))
        if found is None:
            await self.close(code=4404)
            return
        self.swap, entries = found
        self.group_name = self.swap.leaderboard_group
        await self.channel_layer.group_add(self.group_name, self.channel_name)
        await self.accept()
        await self.send_json({"type": "leaderboard", "entries": entries})

    async def disconnect(self, code: int) -> None:
        if self.group_name:
            await self.channel_layer.group_discard(self.group_name, self.channel_name)

    async def leaderboard_changed(self, event: dict[str, Any]) -> None:
        """Send the leaderboard as it stands at the end of the interval the nudge names."""
        if self.swap is None:
            return
        try:
            # Shielded: this socket closing must not cancel the read other sockets wait for.
            entries = await asyncio.shield(board_after(self.swap, float(event["read_at"])))
        except Exception:
            logger.warning("could not read the leaderboard of swap %s", self.swap.pk, exc_info=True)
            return
        await self.send_json({"type": "leaderboard", "entries": entries})
