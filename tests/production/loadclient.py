"""Play a shared challenge as a crowd of players and report latency: `python -m tests.production.loadclient`.

    python -m tests.production.loadclient --base-url http://127.0.0.1:8000 --token TOKEN [--players 200]

Each simulated player behaves like a browser: one keep-alive connection and its own cookies; it opens
the play page and its picture, joins as a guest and makes a few guesses at random points, pausing
between clicks like a person. Players are spread over every --base-url (one per web process when no
load balancer is in front). The run stops by itself: each request has a timeout and the whole run a
deadline. Only the standard library's asyncio: no HTTP package to install on the machine that loads.
Base URLs must be loopback unless --allow-remote says the server is yours.

    python -m tests.production.loadclient seed

creates a published challenge with two hidden friends in the database that DATABASE_URL names (for a
local run) and prints its share token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

USER_AGENT = "crowdswap-loadclient/1"
KINDS = ("page", "image", "join", "guess")


@dataclass
class Sample:
    """One request: what it was, how it ended and how long it took."""

    kind: str
    status: int  # 0 when no response came (connection error, timeout)
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class HttpError(Exception):
    """The server answered in a way no browser would accept (malformed or cut short)."""


class Browser:
    """One player's HTTP/1.1 client: a keep-alive connection to one server and a cookie jar."""

    def __init__(self, base_url: str, *, timeout: float, forwarded_for: str = "") -> None:
        parts = urlsplit(base_url)
        # As a load balancer listed in TRUSTED_PROXIES would say: each player comes from its own address.
        self.forwarded_for = forwarded_for
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only plain http:// base URLs are supported, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.host_header = parts.netloc
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None

    async def request(self, method: str, path: str, payload: Any = None) -> Response:
        """Send one request (JSON body when payload is given) and return the whole response."""
        return await asyncio.wait_for(self._request(method, path, payload), self.timeout)

    async def _request(self, method: str, path: str, payload: Any) -> Response:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = {
            "Host": self.host_header,
            "User-Agent": USER_AGENT,
            "Accept": "application/json" if path.startswith(f"{self.prefix}/api/") else "*/*",
            "Connection": "keep-alive",
        }
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if body or method in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET" and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]  # as the play page's script sends it
        if self.forwarded_for:
            headers["X-Forwarded-For"] = self.forwarded_for
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        data = head.encode("latin-1") + b"\r\n" + body
        # A kept-alive connection the server closed in the meantime fails on first use: reconnect once.
        for attempt in (1, 2):
            reused = self.writer is not None
            if not reused:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None and self.writer is not None
            try:
                self.writer.write(data)
                await self.writer.drain()
                response = await self._read_response(self.reader, method)
            except (ConnectionError, asyncio.IncompleteReadError, HttpError):
                await self.close()
                if reused and attempt == 1:
                    continue
                raise
            if (response.header("connection") or "").lower() == "close":
                await self.close()
            self._keep_cookies(response)
            return response
        raise AssertionError("unreachable")

    async def _read_response(self, reader: asyncio.StreamReader, method: str) -> Response:
        status_line = await reader.readline()
        if not status_line:
            raise HttpError("connection closed before a response")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise HttpError(f"bad status line {status_line!r}")
        status = int(parts[1])
        headers: list[tuple[str, str]] = []
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise HttpError("connection closed inside the headers")
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip().lower(), value.strip()))
        response = Response(status, headers, b"")
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response
        if (response.header("transfer-encoding") or "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(await reader.readexactly(size))
                await reader.readexactly(2)
            response.body = b"".join(chunks)
        elif response.header("content-length") is not None:
            response.body = await reader.readexactly(int(response.header("content-length") or 0))
        else:
            response.body = await reader.read()
            response.headers.append(("connection", "close"))
        return response

    def _keep_cookies(self, response: Response) -> None:
        for name, value in response.headers:
            if name != "set-cookie":
                continue
            pair = value.split(";", 1)[0]
            key, _, cookie = pair.partition("=")
            attributes = value.lower()
            # Django deletes a cookie by expiring it (max-age=0).
            if "max-age=0" in attributes.replace(" ", "") or not cookie:
                self.cookies.pop(key.strip(), None)
            else:
                self.cookies[key.strip()] = cookie.strip()


@dataclass
class Options:
    base_urls: list[str]
    token: str
    players: int = 200
    guesses: int = 3
    # Players arrive spread over this many seconds, and pause between their clicks (uniform 0.5x to 1.5x
    # this mean) to look at the picture: finding one face among dozens takes a person seconds. With 200
    # players, every one of them is in the game at the same time (a session lasts longer than the ramp).
    ramp: float = 10.0
    think: float = 4.0
    timeout: float = 30.0  # per request
    deadline: float = 180.0  # for the whole run
    seed: int = 1
    with_image: bool = True


@dataclass
class Outcome:
    """Everything a run measured."""

    options: Options
    samples: list[Sample] = field(default_factory=list)
    started: float = 0.0
    finished: float = 0.0
    players_joined: int = 0
    players_completed: int = 0
    deadline_hit: bool = False

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if not s.ok]

    def summary(self) -> dict[str, Any]:
        """Return the figures: request rate, error count and latency percentiles per kind and overall."""
        duration = max(self.finished - self.started, 1e-9)
        figures: dict[str, Any] = {
            "players": self.options.players,
            "web_processes": len(self.options.base_urls),
            "players_joined": self.players_joined,
            "players_completed": self.players_completed,
            "requests": len(self.samples),
            "errors": len(self.errors),
            "deadline_hit": self.deadline_hit,
            "seconds": round(duration, 3),
            "requests_per_second": round(len(self.samples) / duration, 1),
            "latency_ms": {},
            "error_examples": sorted({f"{s.kind}: {s.error}" for s in self.errors})[:10],
        }
        for kind in (*KINDS, "all"):
            chosen = [s for s in self.samples if kind in ("all", s.kind)]
            if not chosen:
                continue
            times = sorted(s.seconds for s in chosen)
            figures["latency_ms"][kind] = {
                "count": len(chosen),
                "errors": sum(1 for s in chosen if not s.ok),
                **{f"p{p}": round(1000 * percentile(times, p), 1) for p in (50, 95, 99)},
                "max": round(1000 * times[-1], 1),
            }
        return figures


def percentile(sorted_values: list[float], p: float) -> float:
    """Return the nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def format_summary(figures: dict[str, Any]) -> str:
    """Return the figures as a few lines for people."""
    lines = [
        f"{figures['players']} players on {figures['web_processes']} web process(es): "
        f"{figures['requests']} requests in {figures['seconds']:.1f} s = {figures['requests_per_second']:.1f} req/s, "
        f"{figures['errors']} error(s); {figures['players_completed']} players finished all their clicks"
        + (" (stopped at the deadline)" if figures["deadline_hit"] else ""),
    ]
    for kind, row in figures["latency_ms"].items():
        lines.append(
            f"  {kind:<6} n={row['count']:<5} errors={row['errors']:<4} p50={row['p50']:>8.1f} ms  "
            f"p95={row['p95']:>8.1f} ms  p99={row['p99']:>8.1f} ms  max={row['max']:>8.1f} ms"
        )
    for example in figures["error_examples"]:
        lines.append(f"  error: {example}")
    return "\n".join(lines)


class Player:
    """One simulated person playing the challenge."""

    def __init__(self, number: int, options: Options, outcome: Outcome) -> None:
        self.number = number
        self.options = options
        self.outcome = outcome
        self.random = random.Random(options.seed * 1_000_003 + number)
        self.browser = Browser(
            options.base_urls[number % len(options.base_urls)],
            timeout=options.timeout,
            forwarded_for=f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256 + 1}",
        )
        self.token = options.token

    async def timed(self, kind: str, method: str, path: str, payload: Any = None, ok: tuple[int, ...] = (200,)) -> Any:
        """Make one request and record it; return the JSON body (or True) when it succeeded, else None."""
        start = time.perf_counter()
        try:
            response = await self.browser.request(method, path, payload)
        except (TimeoutError, OSError, HttpError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.browser.close()
            self.outcome.samples.append(
                Sample(kind, 0, time.perf_counter() - start, f"{type(exc).__name__}: {exc}"[:200])
            )
            return None
        elapsed = time.perf_counter() - start
        if response.status not in ok:
            detail = response.body[:120].decode("utf-8", "replace").replace("\n", " ")
            self.outcome.samples.append(Sample(kind, response.status, elapsed, f"HTTP {response.status} {detail}"))
            return None
        self.outcome.samples.append(Sample(kind, response.status, elapsed))
        if "json" in (response.header("content-type") or ""):
            try:
                return response.json()
            except ValueError:
                return True
        return True

    async def pause(self) -> None:
        if self.options.think > 0:
            await asyncio.sleep(self.options.think * self.random.uniform(0.5, 1.5))

    async def play(self) -> None:
        try:
            await asyncio.sleep(self.random.uniform(0, self.options.ramp) if self.options.ramp > 0 else 0)
            token = self.token
            if not await self.timed("page", "GET", f"/play/{token}/"):
                return
            if self.options.with_image and not await self.timed("image", "GET", f"/play/{token}/image.jpg"):
                return
            await self.pause()
            state = await self.timed(
                "join",
                "POST",
                f"/api/play/{token}/join/",
                {"nickname": f"load-{self.options.seed}-{self.number}"},
                ok=(200, 201),
            )
            if not isinstance(state, dict):
                return
            self.outcome.players_joined += 1
            for _ in range(self.options.guesses):
                open_friends = [
                    f for f in state.get("friends", []) if not f.get("found") and f.get("attempts_left", 1) > 0
                ]
                if not open_friends:
                    break  # found everybody: a real player has nothing left to click
                await self.pause()
                friend = self.random.choice(open_friends)
                body = {"identity": friend["identity"], "x": self.random.random(), "y": self.random.random()}
                answer = await self.timed("guess", "POST", f"/api/play/{token}/guesses/", body)
                if not isinstance(answer, dict):
                    return
                state = answer.get("state") or state
            self.outcome.players_completed += 1
        finally:
            await self.browser.close()


async def run_load(options: Options) -> Outcome:
    """Run every player at once (arrivals spread over the ramp) and return what was measured."""
    outcome = Outcome(options=options)
    players = [Player(n, options, outcome) for n in range(options.players)]
    outcome.started = time.perf_counter()
    tasks = [asyncio.create_task(p.play()) for p in players]
    done, pending = await asyncio.wait(tasks, timeout=options.deadline)
    for task in pending:
        task.cancel()
    if pending:
        outcome.deadline_hit = True
        await asyncio.wait(pending, timeout=10)
    outcome.finished = time.perf_counter()
    for task in done:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            outcome.samples.append(Sample("crash", 0, 0.0, f"{type(exc).__name__}: {exc}"[:200]))
    return outcome


# ---------------------------------------------------------------- seeding (local runs and tests)


def seed_challenge(*, image: Path, title: str = "Load test") -> dict[str, Any]:
    """Create a host, a room and a published swap with two hidden friends; return its token and answer key.

    Needs Django settings (the database DATABASE_URL names); the picture is any real photo.
    """
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crowdswap.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.db import transaction
    from PIL import Image as PILImage

    from rooms.models import Identity, Room
    from swaps.models import Swap

    with transaction.atomic():
        owner, _ = get_user_model().objects.get_or_create(username="loadtest-host")
        room = Room.objects.create(owner=owner, title=title)
        friends = [Identity.objects.create(room=room, name=name) for name in ("Alice", "Bob")]
        # Boxes as image fractions: random clicks hit them now and then, as real players do.
        key = [
            {"identity": friends[0].pk, "box": [0.2, 0.3, 0.1, 0.15]},
            {"identity": friends[1].pk, "box": [0.6, 0.25, 0.1, 0.15]},
        ]
        swap = Swap(
            room=room,
            version=1,
            identity_ids=[f.pk for f in friends],
            status=Swap.Status.DONE,
            published=True,
            answer_key=key,
        )
        content = image.read_bytes()
        swap.image.save("load.jpg", ContentFile(content), save=False)
        swap.preview.save("load-preview.jpg", ContentFile(content), save=False)
        # Set after saving the files: assigning a file resets the dimension fields.
        with PILImage.open(image) as picture:
            swap.width, swap.height = picture.size
        swap.save()
    return {"token": swap.share_token, "swap": swap.pk, "room": room.pk, "identities": [f.pk for f in friends]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.production.loadclient",
        description="Play a shared challenge as a crowd of players and report latency and errors.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command")
    seed = sub.add_parser("seed", help="create a published challenge in DATABASE_URL's database; print its token")
    seed.add_argument("--image", type=Path, required=True, help="a real photo to use as the swapped picture")
    parser.add_argument("--base-url", action="append", dest="base_urls", help="a web process (repeat for several)")
    parser.add_argument("--token", help="share token of a published challenge")
    parser.add_argument("--players", type=int, default=200, help="simulated players, all playing at once")
    parser.add_argument("--guesses", type=int, default=3, help="guesses per player")
    parser.add_argument("--ramp", type=float, default=Options.ramp, help="seconds over which players arrive")
    parser.add_argument("--think", type=float, default=Options.think, help="mean seconds between a player's clicks")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=180.0, help="seconds for the whole run")
    parser.add_argument("--seed", type=int, default=1, help="random seed (click positions, arrivals)")
    parser.add_argument("--no-image", action="store_true", help="do not download the picture")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--allow-remote", action="store_true", help="allow a base URL that is not loopback (a server you run)"
    )
    args = parser.parse_args(argv)

    if args.command == "seed":
        print(json.dumps(seed_challenge(image=args.image)))
        return 0
    if not args.base_urls or not args.token:
        parser.error("--base-url and --token are required to run the load")
    for url in args.base_urls:
        host = urlsplit(url).hostname or ""
        if host not in ("127.0.0.1", "localhost", "::1") and not args.allow_remote:
            # A load test is an attack on anybody else's server: loopback unless told it is yours.
            parser.error(f"{url}: not a loopback address; pass --allow-remote if you run this server")
    options = Options(
        base_urls=args.base_urls,
        token=args.token,
        players=args.players,
        guesses=args.guesses,
        ramp=args.ramp,
        think=args.think,
        timeout=args.timeout,
        deadline=args.deadline,
        seed=args.seed,
        with_image=not args.no_image,
    )
    outcome = asyncio.run(run_load(options))
    figures = outcome.summary()
    print(format_summary(figures), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 1 if figures["errors"] or figures["deadline_hit"] else 0


if __name__ == "__main__":
    sys.exit(main())
