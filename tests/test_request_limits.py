"""The web server refuses a request body over MAX_REQUEST_BYTES before reading it (real Daphne, loopback)."""

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import daphne

pytestmark = pytest.mark.processes

LIMIT = 4 * 25 * 1024 * 1024 + 1024 * 1024  # the default: four largest uploads and their form fields


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    var = tmp_path_factory.mktemp("var")
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(CROWDSWAP_VAR_DIR=str(var), TMPDIR=str(var))
    with daphne(env, var / "daphne.log") as port:
        yield port


def read_response(sock: socket.socket) -> tuple[int, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(head.split()[1]), json.loads(body)


def test_a_300_mb_post_is_refused_from_its_headers_alone(server):
    size = 300 * 1000 * 1000
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\n\r\n" % size
        )
        # Not one byte of the body was sent: the answer comes from the declared length.
        status, body = read_response(sock)
    assert status == 413
    assert body["detail"] == "This request is 300.0 MB, over the 105.9 MB a request may carry. Send less at once."


def test_expect_100_continue_gets_the_refusal_instead_of_a_go_ahead(server):
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(
            b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
            % (LIMIT + 1)
        )
        status, body = read_response(sock)
    assert status == 413 and "over the 105,906,176 bytes" in body["detail"]


def test_a_chunked_body_is_cut_off_once_it_passes_the_limit(server):
    chunk = b"x" * (1024 * 1024)
    sent = 0
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(b"POST /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        try:
            while sent < 3 * LIMIT:  # bounded: the server must stop us long before this
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except OSError:
            pass  # the server closed the connection: what we want
        status, body = read_response(sock)
    assert status == 413
    assert sent < 2 * LIMIT


def test_small_requests_still_reach_the_app(server):
    with socket.create_connection(("127.0.0.1", server), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        status, body = read_response(sock)
    assert status == 200 and body == {"status": "ok"}


def test_sizes_are_stated_precisely_enough_to_differ():
    from crowdswap.lib.limits import describe_sizes

    assert describe_sizes(300_000_000, 105_906_176) == ("300.0 MB", "105.9 MB")
    assert describe_sizes(26_214_400 + 5_000, 26_214_400) == ("26.22 MB", "26.21 MB")
    assert describe_sizes(26_214_401, 26_214_400) == ("26,214,401 bytes", "26,214,400 bytes")


def test_the_limit_is_in_front_of_every_daphne_request():
    from daphne import http_protocol

    import crowdswap.asgi  # noqa: F401  (installs the limit)

    assert http_protocol.WebRequest.body_limit == LIMIT
    assert Path(http_protocol.__file__).is_file()
