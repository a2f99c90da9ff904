"""./setup.sh on a port other than 8000: share links, link previews and sign-in all name that port.

Runs the real ./setup.sh (daphne, a worker and its private Redis) with PORT and REDIS_PORT set and no
SITE_URL, creates a published challenge in its database, and follows the share link in Chromium.
"""

import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.browser.conftest import ROOT, free_port, run_manage

pytestmark = [pytest.mark.browser, pytest.mark.processes]

START_TIMEOUT = 180

SEED = """
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from rooms.models import Identity
from rooms.services.rooms import create_room
from swaps.models import Swap
from tests.swaps.conftest import tiny_jpeg

host = get_user_model().objects.create_user(username="porthost", email="p@example.com", password="port-host-pass-1")
room = create_room(owner=host, title="Port test")
alice = Identity.objects.create(room=room, name="Alice")
swap = Swap(room=room, version=1, identity_ids=[alice.pk], status=Swap.Status.DONE, published=True)
swap.image.save("result.jpg", ContentFile(tiny_jpeg()), save=False)
swap.preview.save("preview.jpg", ContentFile(tiny_jpeg(size=(1200, 630))), save=False)
swap.width, swap.height = 400, 300
swap.answer_key = [{"identity": alice.pk, "box": [0.4, 0.4, 0.1, 0.1]}]
swap.save()
print("ROOM", room.pk)
"""


def wait_for(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"setup.sh exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"{url} did not answer within {START_TIMEOUT} s:\n{log.read_text()[-4000:]}")


@pytest.fixture
def app_on_a_free_port(tmp_path):
    port, redis_port = free_port(), free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SITE_URL", "CSRF_TRUSTED_ORIGINS", "REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(PORT=str(port), REDIS_PORT=str(redis_port), CROWDSWAP_VAR_DIR=str(tmp_path / "var"))
    log = tmp_path / "setup.log"
    with log.open("w") as out:
        proc = subprocess.Popen([str(ROOT / "setup.sh")], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc, log)
        yield {"proc": proc, "port": port, "env": env, "log": log}
    finally:
        if proc.poll() is None:
            proc.terminate()  # setup.sh stops its children on TERM
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                for child in psutil.Process(proc.pid).children(recursive=True):
                    child.kill()
                proc.kill()
                proc.wait(10)


def test_share_links_name_the_port_setup_sh_binds(app_on_a_free_port, new_page, screenshot):
    port = app_on_a_free_port["port"]
    site = f"http://127.0.0.1:{port}"
    # Every process setup.sh started got the address it binds.
    children = psutil.Process(app_on_a_free_port["proc"].pid).children(recursive=True)
    apps = [c for c in children if any(part.endswith(("daphne", "manage.py")) for part in c.cmdline())]
    assert apps, [c.cmdline() for c in children]
    assert {c.environ().get("SITE_URL") for c in apps} == {site}
    assert f"share links use {site}" in app_on_a_free_port["log"].read_text()

    manage_env = {**app_on_a_free_port["env"], "DJANGO_SETTINGS_MODULE": "crowdswap.settings", "SITE_URL": site}
    room_id = run_manage(manage_env, "shell", "-c", SEED).split("ROOM", 1)[1].split()[0]

    page = new_page("desktop")
    page.goto(f"{site}/accounts/login/")
    page.fill("input[name=login]", "porthost")
    page.fill("input[name=password]", "port-host-pass-1")
    with page.expect_navigation():
        page.click("form.auth-form button[type=submit]")
    page.goto(f"{site}/rooms/{room_id}/swaps/")
    share_url = page.locator(".share-url").first.input_value()
    assert share_url.startswith(f"{site}/play/"), share_url
    screenshot(page, "site-url-host-desktop")

    phone = new_page("phone")
    response = phone.goto(share_url)
    assert response is not None and response.status == 200
    assert phone.locator('meta[property="og:image"]').get_attribute("content").startswith(f"{site}/play/")
    assert phone.locator("#play").get_attribute("data-share-url") == share_url
    screenshot(phone, "site-url-play-phone")
