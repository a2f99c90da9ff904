"""Run tests/attack.py against a real server (Daphne on loopback) holding a challenge with 20 honest players."""

import json
import os
import subprocess
import sys

import pytest

from tests.servers import ROOT, daphne

pytestmark = pytest.mark.processes

# A published challenge with two hidden friends and 20 honest players who found them (scores 300..490).
SEED = """
import io, json
from datetime import timedelta
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from rooms.models import Identity, Room
from swaps.models import Player, Swap

host = get_user_model().objects.create_user(username="maria", password="host-pass-123")
room = Room.objects.create(owner=host, title="Attack me")
alice = Identity.objects.create(room=room, name="Alice")
bob = Identity.objects.create(room=room, name="Bob")
buffer = io.BytesIO()
Image.new("RGB", (400, 300), (120, 130, 140)).save(buffer, "JPEG")
swap = Swap(room=room, version=1, identity_ids=[alice.pk, bob.pk], status="done", published=True)
swap.image.save("result.jpg", ContentFile(buffer.getvalue()), save=False)
swap.width, swap.height = 400, 300
swap.answer_key = [
    {"identity": alice.pk, "box": [0.23456, 0.31234, 0.04321, 0.06789]},
    {"identity": bob.pk, "box": [0.71234, 0.52345, 0.05432, 0.07654]},
]
swap.save()
now = timezone.now()
for i in range(20):
    Player.objects.create(swap=swap, nickname=f"honest-{i}", session_key=f"honest-{i}", score=300 + 10 * i, hits=2,
                          finished_at=now)
Player.objects.filter(swap=swap).update(started_at=now - timedelta(minutes=3))
print(json.dumps({"token": swap.share_token}))
"""


def test_no_cheater_reaches_the_top_20_and_fake_joins_are_capped(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(CROWDSWAP_VAR_DIR=str(tmp_path / "var"), PLAY_JOINS_PER_CLIENT="5")
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run([python, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [python, "manage.py", "shell", "-c", SEED], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    token = json.loads(seeded.stdout.strip().splitlines()[-1])["token"]
    with daphne(env, tmp_path / "daphne.log") as port:
        figures_path = tmp_path / "attack.json"
        run = subprocess.run(
            [sys.executable, "-m", "tests.attack", "--url", f"http://127.0.0.1:{port}/play/{token}/"]
            + ["--json", str(figures_path), "--deadline", "240"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        print("\n" + run.stdout)
        assert run.returncode == 0, run.stdout + run.stderr
    figures = json.loads(figures_path.read_text())
    attacks = figures["attacks"]
    assert figures["cheaters_in_top_20"] == [], run.stdout
    # One network (loopback, forged headers or not): at most PLAY_JOINS_PER_CLIENT players over every attack.
    assert figures["players_created"] <= 5, run.stdout
    assert attacks["cross-origin"]["got_through"] == 0, run.stdout
    for replay in ("replay-same-browser", "replay-no-cookies", "replay-forged-xff"):
        assert attacks[replay]["got_through"] == 0, run.stdout
