"""The whole story in Debian's Chromium: sign up, room, friends, crowd, swap, share, play as a guest, live leaderboard.

Runs its own daphne, worker and private Redis (the shared `browser_server` uses the in-process channel layer,
which a worker process cannot reach).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser.conftest import ROOT, free_port, run_manage, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.processes]

START_TIMEOUT = 180  # importing dlib and loading the face models on a loaded 2-core machine
JOB_TIMEOUT_MS = 300_000  # photo, crowd and swap jobs share one worker on a loaded machine
# Photos whose faces cluster into one person each (see tests/rooms/photos.py).
FRIENDS = {"angelina_jolie": ("img10.jpg", "img2.jpg", "img6.jpg"), "mark_zuckerberg": ("img13.jpg", "img14.jpg")}


@dataclass
class Story:
    url: str
    env: dict[str, str]
    logs: list[Path]

    def shell(self, code: str) -> str:
        return run_manage(self.env, "shell", "-c", code)

    def diagnose(self) -> str:
        return "\n".join(f"--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs)


def _wait_http(url: str, procs: list[subprocess.Popen], story: Story) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise RuntimeError(f"a process exited during start:\n{story.diagnose()}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT}s:\n{story.diagnose()}")


@pytest.fixture(scope="module")
def story() -> Iterator[Story]:
    """Start a private Redis, a daphne and a runworker sharing one throwaway database and media folder."""
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is missing: install Debian's chromium package to run browser tests")
    from swaps.jobs_bench import start_redis

    var_dir = Path(tempfile.mkdtemp(prefix="crowdswap-story-"))
    redis_proc, redis_url = start_redis(var_dir)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "AWS_STORAGE_BUCKET_NAME", "MEDIA_ROOT"}}
    env.update(
        CROWDSWAP_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="crowdswap.settings",
        DEBUG="1",
        PYTHONUNBUFFERED="1",
        REDIS_URL=redis_url,
        CHANNELS_PREFIX="story",
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env["SITE_URL"] = url
    env["CSRF_TRUSTED_ORIGINS"] = url
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, timeout=300)
    procs: list[subprocess.Popen] = []
    logs = [var_dir / "daphne.log", var_dir / "worker.log"]
    commands = [
        [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port), "crowdswap.asgi:application"],
        [sys.executable, "manage.py", "runworker", "crowdswap-jobs"],
    ]
    story = Story(url=url, env=env, logs=logs)
    try:
        for command, log in zip(commands, logs, strict=True):
            with log.open("wb") as out:
                procs.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
        _wait_http(url, procs, story)
        yield story
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        redis_proc.kill()
        redis_proc.wait(10)
        shutil.rmtree(var_dir, ignore_errors=True)


def reload_until(page, selector: str, *, timeout_s: float, what: str, story: Story) -> None:
    """Reload the page until an element shows up (for pages that do not update themselves)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if page.locator(selector).count():
            return
        page.wait_for_timeout(2000)
        page.reload()
    pytest.fail(f"timed out waiting for {what}\n{story.diagnose()}")


def test_host_swaps_shares_and_a_guest_plays(story, browser, data_dir):
    from playwright.sync_api import expect

    host_context = browser.new_context(viewport={"width": 1280, "height": 800})
    host_context.set_default_timeout(60_000)
    page = host_context.new_page()
    guest_context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    guest_context.set_default_timeout(60_000)
    guest = guest_context.new_page()
    try:
        # Sign up and create a room.
        page.goto(f"{story.url}/accounts/signup/")
        page.fill("input[name=email]", "host@example.com")
        page.fill("input[name=username]", "host")
        page.fill("input[name=password1]", "a-long-host-pass-123")
        page.fill("input[name=password2]", "a-long-host-pass-123")
        with page.expect_navigation():
            page.click("form.auth-form button[type=submit]")
        page.goto(f"{story.url}/rooms/")
        page.fill("input[name=title]", "Stadium day")
        with page.expect_navigation():
            page.locator("input[name=title]").press("Enter")
        room_url = page.url

        # Friends' photos, then wait for the two people to appear and name one.
        files = [data_dir / "identities" / person / name for person, names in FRIENDS.items() for name in names]
        page.set_input_files("#photo-files", [str(p) for p in files])
        page.click("#upload-button")
        reload_until(
            page, ".identity-card >> nth=1", timeout_s=JOB_TIMEOUT_MS / 1000, what="two identities", story=story
        )
        first = page.locator(".identity-card").first
        first.locator("input[name=name]").fill("Angie")
        with page.expect_navigation():
            first.locator("form.cluster button").click()
        expect(page.locator(".identity-card strong", has_text="Angie")).to_have_count(1)

        # Crowd photo.
        page.goto(room_url + "crowds/")
        page.set_input_files("input[name=files]", str(data_dir / "crowds" / "stadium.jpg"))
        with page.expect_navigation():
            page.click("text=Upload crowd")

        # Swap: wait for the crowd's faces, start, and follow the job until the result shows.
        page.goto(room_url + "swaps/")
        reload_until(page, "#start-swap", timeout_s=JOB_TIMEOUT_MS / 1000, what="the crowd's faces", story=story)
        with page.expect_navigation():
            page.click("#start-swap")
        reload_until(page, ".swap-figure img", timeout_s=JOB_TIMEOUT_MS / 1000, what="the swap result", story=story)
        save_screenshot(page, "game-host-result-desktop")
        page.click("[data-reveal]")
        expect(page.locator(".reveal .answer-box").first).to_be_visible()
        with page.expect_navigation():
            page.click('form[action$="/publish/"] button')
        share_url = page.locator(".share-url").first.input_value()
        assert share_url.startswith(story.url + "/play/")
        facebook = page.locator("a.facebook").first.get_attribute("href")
        assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2F127.0.0.1")
        expect(page.locator("[data-leaderboard]").first).to_contain_text("Nobody has played yet")
        save_screenshot(page, "game-host-shared-desktop")

        # The answer key, as the test knows it from the database.
        token = share_url.rstrip("/").rsplit("/", 1)[1]
        key = json.loads(
            story.shell(
                "import json; from swaps.models import Swap; "
                f"print(json.dumps(Swap.objects.get(share_token={token!r}).answer_key))"
            ).splitlines()[-1]
        )
        assert len(key) == len(FRIENDS)

        # A signed-out phone opens the link and plays as a guest: one hit, one miss.
        guest.goto(share_url)
        html = guest.content()
        assert f'property="og:image" content="{story.url}/play/{token}/preview.jpg"' in html
        for entry in key:
            for value in entry["box"]:
                assert repr(value) not in html
        save_screenshot(guest, "game-play-phone-start")
        guest.fill("#nickname", "Guesty")
        guest.click("#join-button")
        expect(guest.locator("#join-form")).to_be_hidden()
        expect(guest.locator("#picture")).to_be_visible()

        def tap(x: float, y: float) -> None:
            guest.locator("#picture").scroll_into_view_if_needed()
            box = guest.locator("#picture").bounding_box()
            guest.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])

        hit, miss = key[0], key[1]
        guest.click(f'.friend[data-identity="{hit["identity"]}"]')
        left, top, width, height = hit["box"]
        tap(left + width / 2, top + height / 2)
        expect(guest.locator("#marks .marker.correct")).to_have_count(1)
        expect(guest.locator(f'.friend[data-identity="{hit["identity"]}"]')).to_have_class("friend found")
        guest.click(f'.friend[data-identity="{miss["identity"]}"]')
        far_x = 0.05 if miss["box"][0] > 0.5 else 0.95
        far_y = 0.05 if miss["box"][1] > 0.5 else 0.95
        tap(far_x, far_y)
        expect(guest.locator("#marks .marker.wrong")).to_have_count(1)
        expect(guest.locator("#leaderboard")).to_contain_text("Guesty")
        save_screenshot(guest, "game-play-phone-guessed")

        # The host's page, opened before the guest played, updates live.
        expect(page.locator("[data-leaderboard]").first).to_contain_text("Guesty", timeout=30_000)
        score = guest.locator("#score").inner_text()
        expect(page.locator("[data-leaderboard]").first).to_contain_text(score)

        # The guest gives up and sees the answers and their rank.
        guest.once("dialog", lambda dialog: dialog.accept())
        guest.click("#give-up")
        expect(guest.locator("#result")).to_be_visible()
        expect(guest.locator("#marks .box.answer")).to_have_count(len(key))
        expect(guest.locator("#result-text")).to_contain_text("#1")
        save_screenshot(guest, "game-play-phone-revealed")

        # Desktop play page and phone host page, for a person to look at.
        desktop_guest = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        desktop_guest.goto(share_url)
        save_screenshot(desktop_guest, "game-play-desktop")
        desktop_guest.context.close()
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        save_screenshot(page, "game-host-shared-phone")
    finally:
        host_context.close()
        guest_context.close()
