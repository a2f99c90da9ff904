"""The real thing: ./setup.sh starts daphne, a runworker and a private Redis; Ctrl-C stops them all."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
import websockets
from channels_redis.core import RedisChannelLayer

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 180) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"setup.sh exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


async def ws_health(url: str) -> dict:
    async with websockets.connect(url, origin="http://127.0.0.1") as ws:
        greeting = json.loads(await asyncio.wait_for(ws.recv(), 30))
        await ws.send(json.dumps({"ping": 1}))
        echo = json.loads(await asyncio.wait_for(ws.recv(), 30))
        return {"greeting": greeting, "echo": echo}


async def ping_worker(redis_url: str) -> dict:
    layer = RedisChannelLayer(hosts=[redis_url], prefix="crowdswap")
    reply = await layer.new_channel()
    token = uuid.uuid4().hex
    await layer.send("crowdswap-jobs", {"type": "health.ping", "reply_channel": reply, "token": token})
    message = await asyncio.wait_for(layer.receive(reply), 60)
    await layer.flush()
    assert message["token"] == token
    return message


@pytest.fixture
def running_app(tmp_path):
    port, redis_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), REDIS_PORT=str(redis_port), CROWDSWAP_VAR_DIR=str(tmp_path / "var"))
    log = tmp_path / "setup.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(ROOT / "setup.sh")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield {"proc": proc, "port": port, "redis_port": redis_port, "log": log}
    finally:
        if proc.poll() is None:
            for child in psutil.Process(proc.pid).children(recursive=True):
                child.kill()
            proc.kill()
            proc.wait(10)


def test_setup_serves_web_socket_and_worker_then_ctrl_c_stops_everything(running_app):
    proc, port, log = running_app["proc"], running_app["port"], running_app["log"]

    assert wait_for_http(f"http://127.0.0.1:{port}/", proc, log) == 200

    health = asyncio.run(ws_health(f"ws://127.0.0.1:{port}/ws/health/"))
    assert health["greeting"]["status"] == "ok"
    assert health["echo"]["echo"] == {"ping": 1}

    # A message on the jobs channel travels through the private Redis to the runworker process.
    pong = asyncio.run(ping_worker(f"redis://127.0.0.1:{running_app['redis_port']}/0"))
    worker_pid = int(pong["worker"].rsplit(":", 1)[1])
    children = psutil.Process(proc.pid).children(recursive=True)
    assert worker_pid in {child.pid for child in children}
    assert "runworker" in " ".join(psutil.Process(worker_pid).cmdline())

    names = {" ".join(child.cmdline()) for child in children}
    assert any("daphne" in name for name in names)
    assert any("redis-server" in name for name in names)

    # Ctrl-C: the script stops every child and leaves nothing behind.
    proc.send_signal(signal.SIGINT)
    proc.wait(60)
    deadline = time.monotonic() + 30
    survivors = children
    while time.monotonic() < deadline:
        survivors = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
        if not survivors:
            break
        time.sleep(0.2)
    assert not survivors, f"left running: {[c.cmdline() for c in survivors]}"
    assert "stopping" in log.read_text()
