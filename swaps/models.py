"""Crowd photos and their faces, the swaps made from them, and the game played on a published swap."""

import secrets
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from crowdswap.jobs.models import Job
from rooms.models import DetectedFace, Room, UploadedImage


def crowd_upload_to(instance: "CrowdPhoto", filename: str) -> str:
    return f"rooms/{instance.room_id}/crowds/{filename}"


class CrowdPhoto(UploadedImage):
    """A crowd photo friends get swapped into."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="crowd_photos")
    image = models.ImageField(upload_to=crowd_upload_to, width_field="width", height_field="height")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "sha256"], name="unique_crowd_content_per_room")]

    def __str__(self) -> str:
        return self.original_name or f"crowd {self.pk}"


class CrowdFace(DetectedFace):
    """One detected face in a crowd photo: a possible place to hide a friend."""

    crowd_photo = models.ForeignKey(CrowdPhoto, on_delete=models.CASCADE, related_name="faces")
    can_host = models.BooleanField(default=True)  # large, frontal and whole enough to take a friend's face

    class Meta:
        ordering = ["crowd_photo_id", "left"]

    def __str__(self) -> str:
        return f"face at {self.box} in {self.crowd_photo_id}"


def swap_upload_to(instance: "Swap", filename: str) -> str:
    # Under the room's prefix, so deleting the room (which walks that prefix) removes every version.
    return f"rooms/{instance.room_id}/swaps/{filename}"


def new_share_token() -> str:
    """Return an unguessable share token for a challenge link."""
    return secrets.token_urlsafe(18)


class Swap(models.Model):
    """One version of friends swapped into a crowd photo: the result, its answer key and its share link."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Swapping"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Difficulty(models.TextChoices):
        # Players see it as a label; the face pipeline takes it as the smallest crowd face a friend goes on
        # (swaps.services.placement.PIPELINE_DIFFICULTY).
        EASY = "easy", "Easy"
        MEDIUM = "medium", "Medium"
        HARD = "hard", "Hard"

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="swaps")
    # Older versions stay playable when their crowd photo is deleted: the result image is their own.
    crowd_photo = models.ForeignKey(CrowdPhoto, on_delete=models.SET_NULL, null=True, blank=True, related_name="swaps")
    job = models.ForeignKey(Job, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    version = models.PositiveIntegerField()
    identity_ids = models.JSONField(default=list)  # the friends the host chose to hide
    difficulty = models.CharField(max_length=8, choices=Difficulty.choices, default=Difficulty.MEDIUM)
    # The host's placement choices: {"identity id": crowd face id} fixes a friend to a face, and the seed re-rolls
    # among near-equal placements (None: the best placement). The swap form's preview uses the same two.
    pins = models.JSONField(default=dict, blank=True)
    seed = models.IntegerField(null=True, blank=True)
    # Chosen friends the swap left out, and why, in words: [{"identity": id, "reason": "..."}].
    unplaced = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    image = models.ImageField(upload_to=swap_upload_to, blank=True, width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    preview = models.ImageField(upload_to=swap_upload_to, blank=True)  # 1200x630 for link previews
    # Server-side only until a player finishes: [{"identity": id, "box": [x, y, w, h] as image fractions}].
    answer_key = models.JSONField(default=list, blank=True)
    published = models.BooleanField(default=False)
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version", "-id"]
        constraints = [models.UniqueConstraint(fields=["room", "version"], name="unique_swap_version_per_room")]

    def __str__(self) -> str:
        return f"swap v{self.version} in room {self.room_id}"

    @property
    def is_playable(self) -> bool:
        return self.published and self.status == self.Status.DONE and bool(self.image)

    @property
    def leaderboard_group(self) -> str:
        """Name of the public Channels group that receives this challenge's leaderboard."""
        return f"swap-{self.pk}-leaderboard"

    def answer_for(self, identity_id: int) -> list[float] | None:
        for entry in self.answer_key:
            if int(entry["identity"]) == int(identity_id):
                return [float(v) for v in entry["box"]]
        return None

    def hidden_identity_ids(self) -> list[int]:
        return [int(entry["identity"]) for entry in self.answer_key]

    def pinned_faces(self) -> dict[int, int]:
        """Return the host's pins as {identity id: crowd face id}."""
        return {int(identity): int(face) for identity, face in (self.pins or {}).items()}


class Player(models.Model):
    """Somebody playing one published swap: signed in, or a guest known by browser, session and nickname."""

    class Kind(models.TextChoices):
        GUEST = "guest", "Guest"
        ACCOUNT = "account", "Signed in"
        FACEBOOK = "facebook", "Signed in with Facebook"

    swap = models.ForeignKey(Swap, on_delete=models.CASCADE, related_name="players")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.GUEST)
    nickname = models.CharField(max_length=40)
    # Casefolded normal form of the nickname: unique per challenge ("" for players from before it existed).
    nickname_key = models.CharField(max_length=64, blank=True)
    session_key = models.CharField(max_length=64, blank=True)
    # The long-lived signed browser cookie (swaps.browsers) and a pseudonym of the client's network
    # (crowdswap.lib.clients.client_key): who may join again, and who has seen the answers.
    browser_id = models.CharField(max_length=32, blank=True)
    client_key = models.CharField(max_length=32, blank=True)
    # Off the leaderboard: this browser, account or network had seen the answers when the player joined.
    ranked = models.BooleanField(default=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    score = models.IntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    misses = models.PositiveIntegerField(default=0)
    gave_up = models.BooleanField(default=False)

    class Meta:
        ordering = ["-score", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["swap", "user"], condition=models.Q(user__isnull=False), name="one_player_per_user_and_swap"
            ),
            models.UniqueConstraint(
                fields=["swap", "session_key"],
                condition=models.Q(user__isnull=True),
                name="one_guest_per_session_and_swap",
            ),
            models.UniqueConstraint(
                fields=["swap", "browser_id"],
                condition=models.Q(user__isnull=True) & ~models.Q(browser_id=""),
                name="one_guest_per_browser_and_swap",
            ),
            models.UniqueConstraint(
                fields=["swap", "nickname_key"],
                condition=~models.Q(nickname_key=""),
                name="unique_nickname_per_swap",
            ),
        ]
        indexes = [models.Index(fields=["swap", "client_key"], name="player_swap_client")]

    def __str__(self) -> str:
        return f"{self.nickname} in swap {self.swap_id}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def seconds_played(self, now: datetime | None = None) -> float:
        end = self.finished_at or now or timezone.now()
        return max(0.0, (end - self.started_at).total_seconds())


class Guess(models.Model):
    """One click of a player looking for one hidden friend, as judged by the server."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="guesses")
    identity_id = models.IntegerField()  # plain id: the answer key, not the Identity row, is the truth
    x = models.FloatField()
    y = models.FloatField()
    hit = models.BooleanField()
    points = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{'hit' if self.hit else 'miss'} by player {self.player_id}"


class Hint(models.Model):
    """A hint one player paid for: a region of the picture that holds one hidden friend (never the exact box)."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="hints")
    identity_id = models.IntegerField()
    region = models.JSONField()  # [x, y, w, h] as image fractions, larger than the face and placed at random
    cost = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["player", "identity_id"], name="one_hint_per_player_and_friend")]

    def __str__(self) -> str:
        return f"hint for {self.identity_id} to player {self.player_id}"
