"""Repeat the cheating attempts of issue 13 against a running server on loopback; print what got through.

    python -m tests.attack --url http://127.0.0.1:8000/play/TOKEN/ [--original CROWD.jpg] [--json OUT]

Every attack is bounded (a fixed number of requests, a per-request timeout, a deadline for the whole run) and
only talks to 127.0.0.1/localhost. Attacker players are named "cheat-...", so the report can say whether
any of them reached the leaderboard's top 20. Attacks:

  replay-same-browser  join, give up (answers revealed), new session in the same browser, play the answers
  replay-no-cookies    give up, then a client with no cookies at all plays the answers
  replay-forged-xff    the same with a forged X-Forwarded-For on every request
  grid                 new cookieless sessions clicking a grid, sharing what they find, until refused
  fake-joins           up to 300 joins with no cookies and forged X-Forwarded-For
  perfect-scores       20 fresh players that know the answers, trying for the top 20
  cross-origin         join / guess / give up from a foreign Origin without the page's CSRF token
  diff                 (with --original) subtract the original crowd: do the brightest spots hit the faces?
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

TIMEOUT = 10
FAKE_JOINS = 300
GRID_SESSIONS = 40
PERFECT_PLAYERS = 20


class Deadline(Exception):
    pass


@dataclass
class Attack:
    name: str
    requests: int = 0
    got_through: int = 0
    what: str = ""
    notes: list[str] = field(default_factory=list)


class Target:
    def __init__(self, url: str, deadline: float) -> None:
        parts = urlsplit(url)
        if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("refusing to attack anything but loopback")
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.token = parts.path.rstrip("/").split("/")[-1]
        self.deadline = deadline
        self.count = 0
        self.joined = 0  # players this attacker's network created

    def client(self, forged: bool = False) -> requests.Session:
        session = requests.Session()
        if forged:
            session.headers["X-Forwarded-For"] = (
                f"{random.randint(1, 223)}.{random.randint(0, 255)}.0.{random.randint(1, 254)}"
            )
        return session

    def call(self, session: requests.Session, method: str, path: str, **kwargs: Any) -> requests.Response:
        if time.monotonic() > self.deadline:
            raise Deadline()
        self.count += 1
        if "X-Forwarded-For" in session.headers:  # a new lie on every request
            session.headers["X-Forwarded-For"] = (
                f"{random.randint(1, 223)}.{random.randint(0, 255)}.1.{random.randint(1, 254)}"
            )
        headers = kwargs.pop("headers", {})
        if method == "POST" and "csrftoken" in session.cookies and "X-CSRFToken" not in headers:
            headers["X-CSRFToken"] = session.cookies["csrftoken"]
        return session.request(method, self.base + path, timeout=TIMEOUT, headers=headers, **kwargs)

    def page(self, session: requests.Session) -> None:
        self.call(session, "GET", f"/play/{self.token}/")

    def join(self, session: requests.Session, nickname: str) -> requests.Response:
        self.page(session)
        response = self.call(session, "POST", f"/api/play/{self.token}/join/", json={"nickname": nickname})
        self.joined += int(response.status_code == 201)
        return response

    def guess(self, session: requests.Session, identity: int, x: float, y: float) -> requests.Response:
        return self.call(
            session, "POST", f"/api/play/{self.token}/guesses/", json={"identity": identity, "x": x, "y": y}
        )

    def give_up(self, session: requests.Session) -> requests.Response:
        return self.call(session, "POST", f"/api/play/{self.token}/give-up/")

    def board(self) -> list[dict[str, Any]]:
        return self.call(requests.Session(), "GET", f"/api/play/{self.token}/leaderboard/").json()


def centre(box: list[float]) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def play_answers(target: Target, session: requests.Session, answers: list[dict[str, Any]]) -> int:
    """Click every answer; return how many hits the server accepted."""
    hits = 0
    for answer in answers:
        response = target.guess(session, answer["identity"], *centre(answer["box"]))
        if response.ok and response.json().get("hit"):
            hits += 1
    return hits


def learn_answers(target: Target, nickname: str, forged: bool = False) -> list[dict[str, Any]] | None:
    session = target.client(forged)
    if target.join(session, nickname).status_code not in (200, 201):
        return None
    state = target.give_up(session).json()
    return state.get("answers")


def on_board(target: Target, name: str) -> bool:
    return any(row["name"] == name for row in target.board())


def replay(target: Target, attack: Attack, mode: str) -> list[dict[str, Any]] | None:
    session = target.client(forged=mode == "forged-xff")
    name = f"cheat-{mode}"
    if target.join(session, f"{name}-scout").status_code not in (200, 201):
        attack.what = "scout could not join"
        return None
    answers = target.give_up(session).json().get("answers")
    if mode == "same-browser":
        session.cookies.pop("sessionid", None)  # the browser keeps its other cookies
    else:
        session = target.client(forged=mode == "forged-xff")
    joined = target.join(session, name)
    if joined.status_code not in (200, 201):
        attack.what = f"refused: {joined.json().get('detail', joined.status_code)}"
        return answers
    player = joined.json()["player"]
    if player["name"] != name:
        attack.what = f"resumed the finished game of {player['name']!r}: nothing to replay"
        return answers
    hits = play_answers(target, session, answers or [])
    ranked = on_board(target, name)
    attack.got_through = int(ranked)
    attack.what = f"{hits} hits, {'ON the board' if ranked else 'off the board'} ({player.get('off_board_reason', '')})"
    return answers


def grid(target: Target, attack: Attack) -> None:
    """New cookieless sessions click a grid for every friend, sharing hits, until the server refuses them."""
    known: dict[int, tuple[float, float]] = {}
    points = [((i + 0.5) / 12, (j + 0.5) / 12) for i in range(12) for j in range(12)]
    random.shuffle(points)
    sessions = 0
    for number in range(GRID_SESSIONS):
        session = target.client(forged=True)
        joined = target.join(session, f"cheat-grid-{number}")
        if joined.status_code not in (200, 201):
            attack.notes.append(f"session {number + 1} refused: {joined.json().get('detail', joined.status_code)}")
            break
        sessions += 1
        friends = [f["identity"] for f in joined.json()["friends"]]
        for identity in friends:
            for _ in range(3):
                spot = known.get(identity) or (points.pop() if points else (0.5, 0.5))
                response = target.guess(session, identity, *spot)
                if response.status_code == 429:
                    time.sleep(1)
                    continue
                if response.ok and response.json()["hit"]:
                    known[identity] = spot
                    break
                if not response.ok:
                    break
    names = {row["name"] for row in target.board()}
    attack.got_through = sum(1 for n in range(GRID_SESSIONS) if f"cheat-grid-{n}" in names and n >= 1)
    attack.what = f"{sessions} sessions, found {len(known)} friends; later sessions on the top 20: {attack.got_through}"


def fake_joins(target: Target, attack: Attack) -> None:
    accepted = 0
    for number in range(FAKE_JOINS):
        session = target.client(forged=True)
        response = target.join(session, f"cheat-fake-{number}")
        if response.status_code == 201:
            accepted += 1
        elif response.status_code == 429 and number > 20:
            break  # refused for good: stop early
    attack.got_through = accepted
    attack.what = f"{accepted} fake players joined"


def perfect_scores(target: Target, attack: Attack, answers: list[dict[str, Any]]) -> None:
    placed = 0
    for number in range(PERFECT_PLAYERS):
        session = target.client(forged=True)
        if target.join(session, f"cheat-perfect-{number}").status_code != 201:
            continue
        play_answers(target, session, answers)
    names = [row["name"] for row in target.board()]
    placed = sum(1 for name in names if name.startswith("cheat-perfect-"))
    attack.got_through = placed
    attack.what = f"{placed} perfect scores on the top 20"


def cross_origin(target: Target, attack: Attack, answers: list[dict[str, Any]]) -> None:
    accepted = 0
    evil = {"Origin": "https://evil.example", "Referer": "https://evil.example/"}
    session = target.client()
    for path, body in (
        (f"/api/play/{target.token}/join/", {"nickname": "cheat-csrf"}),
        (
            f"/api/play/{target.token}/guesses/",
            {"identity": answers[0]["identity"] if answers else 0, "x": 0.5, "y": 0.5},
        ),
        (f"/api/play/{target.token}/give-up/", None),
    ):
        # A foreign page cannot read our CSRF cookie, so it cannot send the token header.
        response = target.call(session, "POST", path, json=body, headers={**evil, "X-CSRFToken": "forged"})
        accepted += int(response.status_code < 400)
    attack.got_through = accepted
    attack.what = f"{accepted} of 3 cross-origin requests accepted"


def diff(target: Target, attack: Attack, original_path: str, answers: list[dict[str, Any]]) -> None:
    import numpy as np
    from PIL import Image

    published = Image.open(
        io.BytesIO(target.call(requests.Session(), "GET", f"/play/{target.token}/image.jpg").content)
    )
    original = Image.open(original_path).convert("RGB").resize(published.size)
    delta = np.abs(np.asarray(published.convert("RGB"), np.float32) - np.asarray(original, np.float32)).mean(axis=2)
    height, width = delta.shape
    cell = max(8, min(width, height) // 40)
    blocks = [
        (float(delta[y : y + cell, x : x + cell].mean()), (x + cell / 2) / width, (y + cell / 2) / height)
        for y in range(0, height - cell + 1, cell)
        for x in range(0, width - cell + 1, cell)
    ]
    hottest = sorted(blocks, reverse=True)[: max(1, len(answers))]
    found = 0
    for answer in answers:
        x, y, w, h = answer["box"]
        found += any(x <= bx <= x + w and y <= by <= y + h for _, bx, by in hottest)
    attack.got_through = found
    attack.what = f"the {len(hottest)} brightest diff spots hit {found} of {len(answers)} hidden faces"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the challenge's share link on loopback")
    parser.add_argument("--original", help="the original crowd photo, for the diff attack")
    parser.add_argument("--deadline", type=float, default=240, help="seconds for the whole run")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    target = Target(args.url, time.monotonic() + args.deadline)
    random.seed(13)
    attacks: list[Attack] = []
    answers: list[dict[str, Any]] = []

    def run(name: str, body: Any) -> None:
        attack = Attack(name)
        before = target.count
        try:
            body(attack)
        except Deadline:
            attack.notes.append("stopped at the deadline")
        except requests.RequestException as error:
            attack.notes.append(f"request failed: {error}")
        attack.requests = target.count - before
        attacks.append(attack)

    def remember(result: list[dict[str, Any]] | None) -> None:
        if result and not answers:
            answers.extend(result)

    for mode in ("same-browser", "no-cookies", "forged-xff"):
        run(f"replay-{mode}", lambda a, m=mode: remember(replay(target, a, m)))
    run("grid", lambda a: grid(target, a))
    run("fake-joins", lambda a: fake_joins(target, a))
    run("perfect-scores", lambda a: perfect_scores(target, a, answers))
    run("cross-origin", lambda a: cross_origin(target, a, answers))
    if args.original:
        run("diff", lambda a: diff(target, a, args.original, answers))

    top20 = [row["name"] for row in target.board()]
    cheaters_on_top = [name for name in top20 if name.startswith("cheat-")]
    print(f"{'attack':<22} {'requests':>8}  got through")
    for attack in attacks:
        print(f"{attack.name:<22} {attack.requests:>8}  {attack.got_through}: {attack.what}")
        for note in attack.notes:
            print(f"{'':<33}{note}")
    print(f"players the attacker created in all: {target.joined}")
    print(f"attacker players in the top 20 now: {len(cheaters_on_top)} {cheaters_on_top}")
    figures = {
        "attacks": {a.name: {"requests": a.requests, "got_through": a.got_through, "what": a.what} for a in attacks},
        "cheaters_in_top_20": cheaters_on_top,
        "requests": target.count,
        "players_created": target.joined,
    }
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
