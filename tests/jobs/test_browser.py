"""jobs.js in Chromium: progress arrives over the room socket, and polling takes over when the socket is down."""

import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from crowdswap.jobs import engine as jobs
from crowdswap.jobs.ping import PING
from rooms.models import Room
from tests.browser import conftest as browser_fixtures

pytestmark = [pytest.mark.processes, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]


# Debian's Chromium, launched once for this module by the browser suite's fixture.
chromium = browser_fixtures.browser


@pytest.fixture(autouse=True)
def orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    # Playwright's sync API keeps an event loop in this thread; the ORM calls here never run on it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def web(workers, tmp_path: Path) -> Iterator[str]:
    """Serve the app with daphne on the workers' database and Redis; yield its base URL."""
    from swaps.jobs_bench import free_port

    port = free_port()
    log = tmp_path / "daphne.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
            + ["crowdswap.asgi:application"],
            cwd=ROOT,
            env={**workers.env, "DEBUG": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"daphne did not serve:\n{log.read_text()[-3000:]}")
                time.sleep(0.25)
        yield url
    finally:
        proc.kill()
        proc.wait(30)


@pytest.fixture
def room_page(web, chromium, host, client):
    """Return a factory: the host's room page, signed in through a real session cookie, watching jobs."""
    room = Room.objects.create(owner=host, title="Live room")
    client.force_login(host)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    contexts = []

    def open_page(*, block_socket: bool = False):
        context = chromium.new_context()
        context.set_default_timeout(60_000)
        contexts.append(context)
        page = context.new_page()
        page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": web}])
        frames: list[str] = []
        if block_socket:
            # The socket "opens" and is closed at once, as behind a proxy that drops WebSockets.
            page.route_web_socket(re.compile(r"/ws/rooms/"), lambda ws: ws.close())
        else:
            page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(str(payload))))
        page.goto(f"{web}/rooms/{room.pk}/")
        page.wait_for_function("() => window.CrowdSwapJobs !== undefined")
        page.evaluate(
            "roomId => { window.jobEvents = []; CrowdSwapJobs.watchRoom(roomId, e => window.jobEvents.push(e)); }",
            room.pk,
        )
        return page, frames

    yield room, open_page
    for context in contexts:
        context.close()


def enqueue_ping(room: Room, seconds: int) -> int:
    """Enqueue from another thread: Playwright's loop in this one would make the nudge's async_to_sync refuse."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def enqueue() -> int:
        try:
            return jobs.enqueue(
                kind=PING, owner_id=room.owner_id, group_name=room.group_name, payload={"seconds": seconds}
            ).pk
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(enqueue).result(timeout=60)


def wait_for_status(page, job_id: int, status: str) -> list[dict]:
    page.wait_for_function(
        "([id, status]) => window.jobEvents.some(e => e.id === id && e.status === status)",
        arg=[job_id, status],
        timeout=120_000,
    )
    return [e for e in page.evaluate("() => window.jobEvents") if e["id"] == job_id]


def test_progress_arrives_over_the_room_socket(workers, room_page):
    room, open_page = room_page
    workers.start()
    page, frames = open_page()
    # Wait for the socket before the job starts, so its progress has somewhere to go.
    page.wait_for_function("() => CrowdSwapJobs.isLive()", timeout=60_000)

    job_id = enqueue_ping(room, 3)
    page.evaluate("id => CrowdSwapJobs.track(id)", job_id)
    events = wait_for_status(page, job_id, "done")

    assert any(e["status"] == "running" and e["progress"] > 0 for e in events), events
    assert events[-1]["result"]["pong"] is True
    assert any(f'"id": {job_id}' in frame and '"running"' in frame for frame in frames), frames


def test_polling_takes_over_when_the_socket_is_down(workers, room_page):
    room, open_page = room_page
    workers.start()
    page, _ = open_page(block_socket=True)
    assert not page.evaluate("() => CrowdSwapJobs.isLive()")

    job_id = enqueue_ping(room, 1)
    page.evaluate("id => CrowdSwapJobs.track(id)", job_id)
    events = wait_for_status(page, job_id, "done")

    assert events[-1]["result"]["pong"] is True
    assert events[-1]["kind"] == "ping"
