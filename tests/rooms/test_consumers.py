"""The room socket: the owner's browser gets job progress live; strangers and anonymous visitors are refused."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from crowdswap.asgi import application
from crowdswap.jobs import engine as jobs
from crowdswap.jobs import ping
from crowdswap.jobs.models import Job
from rooms.models import Room

pytestmark = pytest.mark.django_db(transaction=True)


def socket_for(client, room_id: int) -> WebsocketCommunicator:
    """Open the room socket through the real ASGI stack (origin check, session auth, routing)."""
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    session = client.cookies.get(settings.SESSION_COOKIE_NAME)
    if session:
        headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={session.value}".encode()))
    return WebsocketCommunicator(application, f"/ws/rooms/{room_id}/", headers=headers)


@pytest.fixture
def room(host) -> Room:
    return Room.objects.create(owner=host, title="Wedding")


async def receive_until_finished(socket: WebsocketCommunicator) -> list[dict]:
    events: list[dict] = []
    while not events or events[-1]["status"] not in ("done", "failed"):
        message = await socket.receive_json_from(timeout=30)
        assert message["type"] == "job"
        events.append(message["job"])
    return events


async def test_owner_receives_progress_and_completion(host_client, room, monkeypatch):
    monkeypatch.setattr(ping.time, "sleep", lambda seconds: None)
    socket = socket_for(host_client, room.pk)
    connected, _ = await socket.connect(timeout=10)
    assert connected

    job = await sync_to_async(jobs.enqueue)(
        kind=ping.PING, owner_id=room.owner_id, group_name=room.group_name, payload={"seconds": 2}
    )
    await sync_to_async(jobs.run_job)(job.pk, worker_id="test-worker")
    events = await receive_until_finished(socket)
    await socket.disconnect()

    assert {event["id"] for event in events} == {job.pk}
    assert [(e["status"], e["progress"], e["stage"]) for e in events] == [
        ("queued", 0, ""),
        ("running", 0, "Starting"),
        ("running", 0, "Step 1 of 2"),
        ("running", 50, "Step 2 of 2"),
        ("done", 100, "Done"),
    ]
    assert events[-1]["result"]["pong"] is True
    assert events[-1]["kind"] == "ping" and events[-1]["payload"] == {"seconds": 2}


async def test_owner_sees_failure_reason(host_client, room):
    socket = socket_for(host_client, room.pk)
    assert (await socket.connect(timeout=10))[0]
    job = await Job.objects.acreate(
        kind="ping",
        owner_id=room.owner_id,
        group_name=room.group_name,
        payload={"fail": "No face found in this photo."},
    )
    await sync_to_async(jobs.run_job)(job.pk, worker_id="test-worker")
    events = await receive_until_finished(socket)
    await socket.disconnect()
    assert events[-1]["status"] == "failed"
    assert events[-1]["error"] == "No face found in this photo."


async def test_stranger_is_refused_and_hears_nothing(stranger_client, room):
    socket = socket_for(stranger_client, room.pk)
    connected, code = await socket.connect(timeout=10)
    assert not connected
    assert code == 4403


async def test_anonymous_is_refused(client, room):
    connected, _ = await socket_for(client, room.pk).connect(timeout=10)
    assert not connected


async def test_missing_room_is_refused_like_a_strangers(host_client):
    connected, code = await socket_for(host_client, 999999).connect(timeout=10)
    assert (connected, code) == (False, 4403)


async def test_other_rooms_events_do_not_leak(host_client, room, stranger):
    other = await Room.objects.acreate(owner=stranger, title="Not yours")
    socket = socket_for(host_client, room.pk)
    assert (await socket.connect(timeout=10))[0]
    job = await Job.objects.acreate(kind="ping", owner_id=other.owner_id, group_name=other.group_name, payload={})
    await sync_to_async(jobs.run_job)(job.pk, worker_id="test-worker")
    # The other room's job finished and pushed its events; none reached this socket.
    await asyncio.sleep(0.2)
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
