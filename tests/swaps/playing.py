"""What a player's browser does, for the play tests: join, guess, give up, through the real API."""

from django.test import Client
from django.urls import reverse


def url(name: str, swap) -> str:
    return reverse(name, args=[swap.share_token])


def join(client: Client, swap, nickname: str = "Sam"):
    return client.post(url("api-play-join", swap), {"nickname": nickname}, content_type="application/json")


def guess(client: Client, swap, identity: int, x: float, y: float):
    return client.post(
        url("api-play-guess", swap), {"identity": identity, "x": x, "y": y}, content_type="application/json"
    )


def give_up(client: Client, swap):
    return client.post(url("api-play-give-up", swap))


def centre(box: list[float]) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2
