"""A real daphne on a free loopback port, for tests that talk HTTP to the app as a browser or an attacker would."""

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from swaps.jobs_bench import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def daphne(env: dict[str, str], log: Path) -> Iterator[int]:
    """Run crowdswap.asgi under daphne with ``env`` until the block ends; yield its port."""
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "daphne"), "-b", "127.0.0.1", "-p", str(port), "crowdswap.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(log.read_text())
                time.sleep(0.1)
        else:
            pytest.fail(f"daphne did not listen:\n{log.read_text()}")
        yield port
    finally:
        proc.kill()
        proc.wait(10)
