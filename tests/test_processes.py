"""The real thing: ./setup.sh starts daphne, a runworker and a private Redis; Ctrl-C stops them all."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
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


def _as_from_a_terminal() -> None:
    # A suite started in the background (`./setup.sh test &`) inherits SIGINT ignored, and a shell cannot trap a
    # signal ignored on entry: the script under test must start as if from a terminal, where Ctrl-C is delivered.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def running_app(tmp_path):
    port, redis_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(PORT=str(port), REDIS_PORT=str(redis_port), CROWDSWAP_VAR_DIR=str(tmp_path / "var"))
    # Nudges lost with a Redis restart are re-sent by the sweep: sooner than production's minute, for the test.
    env.update(JOB_SWEEP_INTERVAL_SECONDS="5", JOB_REQUEUE_AFTER_SECONDS="10")
    log = tmp_path / "setup.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ROOT / "setup.sh")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_as_from_a_terminal,
        )
    try:
        yield {"proc": proc, "port": port, "redis_port": redis_port, "log": log, "env": env}
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


# ---------------------------------------------------------------- a crashed child is restarted, not fatal


def children_named(proc: subprocess.Popen, word: str) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        try:
            if word in " ".join(child.cmdline()) and child.status() != psutil.STATUS_ZOMBIE:
                found.append(child)
        except psutil.NoSuchProcess:
            pass
    return found


def gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_for(predicate, what: str, proc: subprocess.Popen, log: Path, timeout: float = 120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"setup.sh exited with {proc.returncode} while waiting for {what}:\n{log.read_text()[-4000:]}")
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text()[-4000:]}")


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_crashed_worker_is_restarted_and_the_rest_keeps_running(running_app):
    proc, port, log = running_app["proc"], running_app["port"], running_app["log"]
    redis_url = f"redis://127.0.0.1:{running_app['redis_port']}/0"
    assert wait_for_http(f"http://127.0.0.1:{port}/", proc, log) == 200
    first = int(asyncio.run(ping_worker(redis_url))["worker"].rsplit(":", 1)[1])
    web = children_named(proc, "daphne")
    redis = children_named(proc, "redis-server")

    # The worker's encoder helper (FACE_ENCODE_PROCESSES, default 2) starts with it and must not outlive it.
    helpers = wait_for(lambda: psutil.Process(first).children(), "the encoder helper", proc, log)
    psutil.Process(first).kill()

    wait_for(lambda: "worker1 exited (status 137); restarting it in 1s" in log.read_text(), "the restart", proc, log)
    wait_for(lambda: all(gone(helper) for helper in helpers), "no orphaned helper", proc, log)
    second = int(asyncio.run(ping_worker(redis_url))["worker"].rsplit(":", 1)[1])
    assert second != first
    assert "runworker" in " ".join(psutil.Process(second).cmdline())
    # Web and Redis never stopped: the same processes still serve.
    assert get(f"http://127.0.0.1:{port}/healthz") == 200
    assert children_named(proc, "daphne") == web and children_named(proc, "redis-server") == redis

    # A child that keeps crashing waits longer each time (1 s, then 2 s, ...).
    psutil.Process(second).kill()
    wait_for(lambda: "worker1 exited (status 137); restarting it in 2s" in log.read_text(), "a longer pause", proc, log)

    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    assert "stopping" in log.read_text()


def run_python(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_redis_restart_under_setup_sh_loses_no_job_and_the_web_keeps_answering(running_app):
    proc, port, log = running_app["proc"], running_app["port"], running_app["log"]
    base = f"http://127.0.0.1:{port}"
    assert wait_for_http(f"{base}/", proc, log) == 200
    env = {**running_app["env"], "REDIS_URL": f"redis://127.0.0.1:{running_app['redis_port']}/0"}
    # Jobs queued behind one worker: each takes 2 s, so most still wait in Redis when it goes.
    ids = json.loads(
        run_python(
            env,
            "import json; from crowdswap.jobs.engine import enqueue; from crowdswap.jobs.ping import PING;"
            "print(json.dumps([enqueue(kind=PING, payload={'seconds': 2}).pk for _ in range(6)]))",
        )
    )
    statuses_code = (
        "import json; from crowdswap.jobs.models import Job;"
        f"print(json.dumps(sorted(Job.objects.filter(pk__in={ids}).values_list('status', flat=True))))"
    )
    old_redis = children_named(proc, "redis-server")
    assert len(old_redis) == 1
    restarted_at = time.monotonic()
    old_redis[0].kill()

    # Throughout the outage and the restart, the web answers: alive, honestly unready, pages served.
    seen: dict[str, set[int]] = {"healthz": set(), "readyz": set(), "page": set()}
    outage_seen = False
    while time.monotonic() - restarted_at < 180:
        for name, path in (("healthz", "/healthz"), ("readyz", "/readyz"), ("page", "/")):
            seen[name].add(get(base + path))
        outage_seen = outage_seen or 503 in seen["readyz"]
        fresh = [p for p in children_named(proc, "redis-server") if p.pid != old_redis[0].pid]
        if outage_seen and fresh and get(base + "/readyz") == 200:
            break
        time.sleep(0.2)
    back_after = time.monotonic() - restarted_at
    assert seen["healthz"] == {200} and seen["page"] == {200}, seen
    assert 503 in seen["readyz"] and "redis exited" in log.read_text(), seen

    done = wait_for(
        lambda: json.loads(run_python(env, statuses_code)) == ["done"] * len(ids) or None,
        "every queued job to finish",
        proc,
        log,
        timeout=240,
    )
    finished_after = time.monotonic() - restarted_at
    assert done
    # The worker rode it out (it is the same process); the jobs whose nudges died with Redis were re-sent.
    text = log.read_text()
    assert "worker1 exited" not in text and "web1 exited" not in text
    assert "channel layer is back" in text or "sweep re-sent" in text
    print(
        f"\nRedis back and /readyz 200 after {back_after:.1f} s; all {len(ids)} jobs done {finished_after:.1f} s after the kill"
    )
