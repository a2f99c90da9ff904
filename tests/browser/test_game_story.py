"""The whole story in Debian's Chromium: sign up, room, friends, crowd, swap, share, play, the end and the reveal.

The host works at 1280x800; one guest plays on a 390x844 touch phone, another at 1280x800. Each point a
person would notice is asserted on the way (the picture's size on the phone, the clock, the hint, the hit
moment, no layout shift, the board one tap away, the end screen's actions, the reveal cards), and
screenshots land in test-output/screenshots/ for a person to look at.

Runs its own daphne, worker and private Redis (the shared `browser_server` uses the in-process channel layer,
which a worker process cannot reach).
"""

import json
import os
import re
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
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import ROOT, VIEWPORTS, free_port, run_manage, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.processes]

START_TIMEOUT = 180  # importing dlib and loading the face models on a loaded 2-core machine
JOB_TIMEOUT_MS = 300_000  # photo, crowd and swap jobs share one worker on a loaded machine
# Photos whose faces cluster into one person each (see tests/rooms/photos.py). Angie's include one without lipstick:
# from her three most made-up photos she fits none of stadium.jpg's women of 36 px and more (fit.MIN_FACE_PX).
FRIENDS = {"angelina_jolie": ("img1.jpg", "img10.jpg", "img4.jpg"), "mark_zuckerberg": ("img13.jpg", "img14.jpg")}


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
    # The browsers stand in for people on different networks: loopback plays the load balancer that names them
    # (X-Forwarded-For), as a deployment's does. A network that has seen the answers plays off the board.
    env["TRUSTED_PROXIES"] = "127.0.0.1"
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


PHONE = VIEWPORTS["phone"]
# Share calls are recorded instead of opening a share sheet (headless Chromium on Linux has none).
RECORD_SHARES = """
window.__shares = [];
Object.defineProperty(navigator, "share", {
  configurable: true,
  value: function (data) { window.__shares.push(data); return Promise.resolve(); },
});
"""


def tap(page, x: float, y: float, *, touch: bool = False) -> None:
    """Tap (or click) the picture at a point given in image fractions, wherever pan and zoom put it."""
    position = page.evaluate(
        """([x, y]) => {
            const p = document.getElementById("picture").getBoundingClientRect();
            const s = document.getElementById("stage").getBoundingClientRect();
            return {x: p.left - s.left + x * p.width, y: p.top - s.top + y * p.height};
        }""",
        [x, y],
    )
    stage = page.locator("#stage")
    if touch:
        stage.tap(position=position)
    else:
        stage.click(position=position)


def show_whole_picture(page) -> None:
    """Press Fit and wait until the whole picture shows (the zoom glides there)."""
    page.click('[data-zoom="fit"]')
    page.wait_for_function(
        """() => {
            const p = document.getElementById("picture").getBoundingClientRect();
            const s = document.getElementById("stage").getBoundingClientRect();
            const fits = Math.abs(p.width - s.width) < 1 || Math.abs(p.height - s.height) < 1;
            return fits && p.width <= s.width + 1 && p.height <= s.height + 1;
        }"""
    )


def wait_until_the_game_fills_the_screen(page) -> None:
    """Wait until joining has scrolled the game into place: the bar stuck at the top, the game right under it."""
    page.wait_for_function(
        """() => {
            const bar = document.getElementById("game-bar").getBoundingClientRect();
            const body = document.querySelector(".play-body").getBoundingClientRect();
            return Math.abs(bar.top) < 1 && Math.abs(body.top - bar.bottom) < 2;
        }"""
    )


def stage_in_page(page) -> dict:
    """Return the picture frame's place in the document (not the viewport): it must not move during play."""
    return page.evaluate(
        """() => {
            const r = document.getElementById("stage").getBoundingClientRect();
            return {top: Math.round(r.top + window.scrollY), height: Math.round(r.height), width: Math.round(r.width)};
        }"""
    )


def centre(box: list[float]) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def far_from(box: list[float]) -> tuple[float, float]:
    return (0.05 if box[0] > 0.5 else 0.95), (0.05 if box[1] > 0.5 else 0.95)


def host_prepares_and_shares(page, story: Story, data_dir: Path) -> tuple[str, list[dict], str]:
    """Sign up, upload friends, name one, upload a crowd, swap (hard), share anyway; return link, key, swaps URL."""
    from playwright.sync_api import expect

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

    # Friends' photos: choosing them uploads them; the count waits for the faces, then the people appear.
    expect(page.locator("#upload-button")).to_be_hidden()
    files = [data_dir / "identities" / person / name for person, names in FRIENDS.items() for name in names]
    page.set_input_files("#photo-files", [str(p) for p in files])
    expect(page.locator("#upload-count")).to_have_text(f"All {len(files)} photos ready", timeout=JOB_TIMEOUT_MS)
    expect(page.locator(".identity-card")).to_have_count(2, timeout=60_000)
    expect(page.locator(".identity-card .face-item")).to_have_count(len(files), timeout=60_000)
    save_screenshot(page, "story-host-people-desktop")
    # Name one friend in place; the other stays "Person N" (the share step warns about it).
    page.evaluate("window.__sameDocument = 1")
    first = page.locator(".identity-card").first
    first.locator("input[name=name]").fill("Angie")
    first.locator("input[name=name]").press("Enter")
    expect(first.locator(".card-note")).to_have_text("Saved: this is Angie.")
    assert page.evaluate("window.__sameDocument") == 1
    unnamed = page.locator(".identity-card").nth(1).get_attribute("data-name")
    assert unnamed.startswith("Person ")

    # Crowd photo.
    page.goto(room_url + "crowds/")
    page.set_input_files("input[name=files]", str(data_dir / "crowds" / "stadium.jpg"))
    with page.expect_navigation():
        page.click("text=Upload crowd")

    # The swap form: the crowd that can host most is chosen, its hint says how many; start a hard one.
    page.goto(room_url + "swaps/")
    reload_until(page, "#start-swap", timeout_s=JOB_TIMEOUT_MS / 1000, what="the crowd's faces", story=story)
    option = page.locator("#swap-crowd option:checked")
    hosts = int(option.get_attribute("data-hosts"))
    assert hosts >= 2 and "stadium.jpg" in option.inner_text()
    expect(page.locator("#crowd-hosts")).to_have_text(f"This crowd can host {hosts} friends.")
    # Each friend shows how well they fit this crowd; the host picks hard (the stadium's faces of 32 px and more: at
    # medium, 36 px, there are ten) and ticks both (only good fits come ticked).
    expect(page.locator(".friend-row .fit-line .badge")).to_have_count(2)
    page.select_option("#swap-difficulty", "hard")
    page.wait_for_function("!document.getElementById('swap-form').classList.contains('is-busy')")
    for box in page.locator('#swap-form input[name="identities"]').all():
        box.check()
    expect(page.locator(".host-box.placed")).to_have_count(2)
    page.wait_for_function("!document.getElementById('swap-form').classList.contains('is-busy')")
    save_screenshot(page, "story-host-swap-form-desktop")
    if page.locator(".host-box.placed.fit-poor, .place-line.tone-warning").count():
        page.click("#start-swap")  # a poor fit is named first; the host goes ahead
        expect(page.locator("#poor-warning")).to_be_visible()
        with page.expect_navigation():
            page.click("#start-anyway")
    else:
        with page.expect_navigation():
            page.click("#start-swap")
    # The form keeps the choices; the version says which crowd, which friends and how hard.
    expect(page.locator("#swap-difficulty")).to_have_value("hard")
    version = page.locator(".swap-version").first
    expect(version.locator(".version-meta")).to_contain_text("stadium.jpg")
    expect(version.locator(".version-friends")).to_have_text(f"Angie, {unnamed}")
    expect(version.locator(".version-meta .badge")).to_have_text("Hard")
    reload_until(page, ".swap-figure img", timeout_s=JOB_TIMEOUT_MS / 1000, what="the swap result", story=story)
    save_screenshot(page, "game-host-result-desktop")
    page.click("[data-reveal]")
    expect(page.locator(".reveal .answer-box").first).to_be_visible()

    # Download the picture.
    download = page.locator("[data-download]").first
    response = page.request.get(story.url + download.get_attribute("href"))
    assert response.status == 200 and response.headers["content-disposition"].startswith("attachment;")
    assert response.body()[:2] == b"\xff\xd8"

    # Sharing warns that players would look for "Person N"; the host shares anyway.
    warning = page.locator(".unnamed-warning").first
    expect(warning).to_contain_text(f"{unnamed} has no name.")
    with page.expect_navigation():
        page.click("[data-share-anyway]")
    share_url = page.locator(".share-url").first.input_value()
    assert share_url.startswith(story.url + "/play/")
    facebook = page.locator("a.facebook").first.get_attribute("href")
    assert facebook.startswith("https://www.facebook.com/sharer/sharer.php?u=http%3A%2F%2F127.0.0.1")
    expect(page.locator("[data-leaderboard]").first).to_contain_text("Nobody has played yet")
    save_screenshot(page, "game-host-shared-desktop")

    token = share_url.rstrip("/").rsplit("/", 1)[1]
    key = json.loads(
        story.shell(
            "import json; from swaps.models import Swap; "
            f"print(json.dumps(Swap.objects.get(share_token={token!r}).answer_key))"
        ).splitlines()[-1]
    )
    assert len(key) == len(FRIENDS)
    return share_url, key, room_url + "swaps/"


def test_host_swaps_shares_and_guests_play_to_the_end(story, browser, data_dir):
    from playwright.sync_api import expect

    host_context = browser.new_context(viewport=VIEWPORTS["desktop"])
    host_context.set_default_timeout(60_000)
    page = host_context.new_page()
    guest_context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        extra_http_headers={"X-Forwarded-For": "198.51.100.20"},
    )
    guest_context.set_default_timeout(60_000)
    guest_context.add_init_script(RECORD_SHARES)
    guest = guest_context.new_page()
    desktop_context = browser.new_context(
        viewport=VIEWPORTS["desktop"], extra_http_headers={"X-Forwarded-For": "203.0.113.40"}
    )
    desktop_context.set_default_timeout(60_000)
    desktop_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=story.url)
    desktop = desktop_context.new_page()
    try:
        share_url, key, swaps_url = host_prepares_and_shares(page, story, data_dir)
        token = share_url.rstrip("/").rsplit("/", 1)[1]
        hit, miss = key[0], key[1]

        # ---------------------------------------------------------------- a guest on a phone
        guest.goto(share_url)
        html = guest.content()
        assert f'property="og:image" content="{story.url}/play/{token}/preview.jpg"' in html
        for entry in key:
            for value in entry["box"]:
                assert repr(value) not in html
        expect(guest.locator("#difficulty")).to_have_text("Hard")
        save_screenshot(guest, "game-play-phone-start", full_page=False)
        # Looking around before joining is fine; a tap asks for a name instead of guessing.
        tap(guest, 0.5, 0.5, touch=True)
        expect(guest.locator("#hint")).to_contain_text("press Play first")
        expect(guest.locator("#nickname")).to_be_focused()
        expect(guest.locator("#marks .marker")).to_have_count(0)
        guest.fill("#nickname", "Guesty")
        guest.click("#join-button")
        expect(guest.locator("#join-form")).to_be_hidden()

        # The picture is full width and uses the screen's height under the sticky bar, with its tools
        # outside it; the game scrolls into place.
        wait_until_the_game_fills_the_screen(guest)
        stage = guest.locator("#stage").bounding_box()
        bar = guest.locator("#game-bar").bounding_box()
        assert stage["x"] == 0 and stage["width"] == PHONE["width"], stage
        assert stage["height"] >= 0.6 * PHONE["height"], stage
        assert abs(bar["y"]) < 1 and stage["y"] >= bar["y"] + bar["height"] - 1, (bar, stage)
        assert stage["y"] + stage["height"] <= PHONE["height"]
        picture = guest.locator("#picture").bounding_box()
        assert picture["height"] >= stage["height"] - 1, "the picture should fill the frame's height"
        for control in ('[data-zoom="in"]', '[data-zoom="out"]', '[data-zoom="fit"]', "#hint-button"):
            box = guest.locator(control).bounding_box()
            assert box["y"] >= stage["y"] + stage["height"] - 1 and box["y"] + box["height"] <= PHONE["height"], control
            assert box["height"] >= 44, f"{control} is too small to tap"
        expect(guest.locator("#board-button")).to_be_visible()
        save_screenshot(guest, "game-play-phone-joined", full_page=False)

        # The clock runs, with the speed bonus beside it.
        expect(guest.locator("#clock")).not_to_have_text("0:00", timeout=15_000)
        expect(guest.locator("#bonus")).to_have_text(re.compile(r"^\+\d+$"))

        # A hint for the second friend: a region lights up and its cost is charged at once.
        guest.tap(f'.friend[data-identity="{miss["identity"]}"]')
        guest.tap("#hint-button")
        expect(guest.locator("#hint-layer .hint-region")).to_be_visible()
        expect(guest.locator("#score")).to_have_text("−30")
        expect(guest.locator("#hint-button")).to_have_text("Hint shown", use_inner_text=True)
        save_screenshot(guest, "game-play-phone-hint", full_page=False)

        # A hit holds the moment (points rise, the friend's chip is ticked), then moves on; nothing shifts.
        show_whole_picture(guest)
        before = stage_in_page(guest)
        guest.tap(f'.friend[data-identity="{hit["identity"]}"]')
        tap(guest, *centre(hit["box"]), touch=True)
        expect(guest.locator("#burst")).to_be_visible()
        expect(guest.locator("#burst .burst-points")).to_have_text(re.compile(r"^\+1\d\d$"))
        expect(guest.locator(f'.friend[data-identity="{hit["identity"]}"]')).to_have_class(re.compile(r"\bfound\b"))
        expect(guest.locator("#marks .marker.correct")).to_have_count(1)
        save_screenshot(guest, "game-play-phone-hit-moment", full_page=False)
        expect(guest.locator("#burst")).to_be_hidden()
        expect(guest.locator(f'.friend[data-identity="{miss["identity"]}"]')).to_have_attribute("aria-pressed", "true")
        assert stage_in_page(guest) == before, "the picture moved after a guess"

        # A miss: a small cross where the tap was, the prompt says so, the picture stays put.
        show_whole_picture(guest)
        tap(guest, *far_from(miss["box"]), touch=True)
        expect(guest.locator("#marks .marker.wrong")).to_have_count(1)
        expect(guest.locator("#hint")).to_contain_text("2 tries left")
        assert stage_in_page(guest) == before, "the picture moved after a miss"
        save_screenshot(guest, "game-play-phone-guessed", full_page=False)

        # The board is one tap away, in a sheet; it shows the guest (never below zero).
        guest.tap("#board-button")
        sheet = guest.locator("#board-sheet")
        expect(sheet).to_be_visible()
        expect(sheet.locator("li.me")).to_contain_text("Guesty")
        save_screenshot(guest, "game-play-phone-board", full_page=False)
        guest.tap("#board-close")
        expect(sheet).to_be_hidden()

        # The host's page, opened before the guest played, updates live.
        expect(page.locator("[data-leaderboard]").first).to_contain_text("Guesty", timeout=30_000)

        # The guest gives up: the end screen comes first, with the score, the rank and what to do next.
        # Giving up asks in the tools row (no browser dialog, which would fail this test); "Keep playing" undoes it.
        dialogs: list[str] = []
        guest.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        guest.tap("#give-up")
        expect(guest.locator("#give-up-confirm")).to_be_visible()
        expect(guest.locator("#hint-button")).to_be_hidden()
        save_screenshot(guest, "game-play-phone-give-up", full_page=False)
        guest.tap("#give-up-no")
        expect(guest.locator("#give-up-confirm")).to_be_hidden()
        expect(guest.locator("#give-up")).to_be_visible()
        guest.tap("#give-up")
        guest.tap("#give-up-yes")
        assert dialogs == []
        end = guest.locator("#end")
        expect(end).to_be_visible()
        expect(guest.locator("#end-title")).to_have_text("You found 1 of 2")
        expect(guest.locator("#end-rank")).to_have_text("#1 on the board")
        points = int(guest.locator("#end-points").inner_text())
        assert points > 0
        save_screenshot(guest, "game-play-phone-end", full_page=False)
        guest.tap("#share-score")
        shares = guest.evaluate("window.__shares")
        assert shares[-1]["url"] == share_url and f"scored {points} points" in shares[-1]["text"]
        guest.tap("#challenge")
        shares = guest.evaluate("window.__shares")
        assert shares[-1]["url"] == share_url and "scored" not in shares[-1]["text"]
        fb = guest.locator("#facebook-score").get_attribute("href")
        assert fb == "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": share_url})
        assert guest.locator("#make-your-own").get_attribute("href") == "/accounts/signup/"
        guest.tap("#end-board")
        expect(sheet).to_be_visible()
        guest.tap("#board-close")

        # The reveal: a card per friend, their photo beside the crowd face, before and after the swap.
        cards = guest.locator(".reveal-card")
        expect(cards).to_have_count(2)
        for index in range(2):
            card = cards.nth(index)
            card.scroll_into_view_if_needed()
            crowd_face = card.locator(".crowd-face img")
            expect(crowd_face).to_have_attribute("src", re.compile(r"/reveal/\d+/after\.jpg$"))
            guest.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=crowd_face.element_handle())
            expect(card.locator(".own-face img")).to_be_visible()
            expect(card.locator(".crowd-face .outline")).to_be_visible()
        first_card = cards.nth(0)
        expect(first_card.locator(".reveal-result")).to_contain_text("Found · +")
        expect(cards.nth(1).locator(".reveal-result")).to_contain_text("Not found · hint −30")
        first_card.scroll_into_view_if_needed()
        save_screenshot(guest, "game-play-phone-reveal-after", full_page=False)
        first_card.locator('button[data-which="before"]').tap()
        crowd_face = first_card.locator(".crowd-face img")
        expect(crowd_face).to_have_attribute("src", re.compile(r"/before\.jpg$"))
        guest.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=crowd_face.element_handle())
        save_screenshot(guest, "game-play-phone-reveal-before", full_page=False)
        first_card.locator("[data-show]").tap()
        expect(guest.locator("#marks .answer-outline.focus")).to_have_count(1)
        expect(guest.locator("#marks .answer-outline")).to_have_count(2)
        save_screenshot(guest, "game-play-phone-revealed")

        # ---------------------------------------------------------------- a guest at a desktop, to the end
        desktop.goto(share_url)
        desktop.fill("#nickname", "Desk")
        desktop.click("#join-button")
        expect(desktop.locator("#board-panel")).to_be_visible()
        wait_until_the_game_fills_the_screen(desktop)
        desk_stage = desktop.locator("#stage").bounding_box()
        assert desk_stage["height"] >= 500, desk_stage
        save_screenshot(desktop, "game-play-desktop", full_page=False)
        for entry in key:
            show_whole_picture(desktop)
            desktop.click(f'.friend[data-identity="{entry["identity"]}"]')
            tap(desktop, *centre(entry["box"]))
            expect(desktop.locator(f'.friend[data-identity="{entry["identity"]}"]')).to_have_class(
                re.compile(r"\bfound\b")
            )
            expect(desktop.locator("#burst")).to_be_hidden()
        expect(desktop.locator("#end-title")).to_have_text("You found all 2!")
        expect(desktop.locator("#end-rank")).to_have_text("#1 on the board")
        expect(desktop.locator("#board-panel li.me")).to_contain_text("Desk")
        desktop.click("#copy-score")
        expect(desktop.locator("#share-note")).to_have_text("Score and link copied: paste them anywhere.")
        copied = desktop.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("I found 2 of 2 friends") and copied.endswith(share_url)
        expect(desktop.locator(".reveal-card .reveal-result.found")).to_have_count(2)
        save_screenshot(desktop, "game-play-desktop-end", full_page=False)
        save_screenshot(desktop, "game-play-desktop-end-full")

        # Somebody else behind the phone guest's address, after the answers were seen there: plays off the board.
        same_network = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, extra_http_headers={"X-Forwarded-For": "198.51.100.20"}
        )
        try:
            late = same_network.new_page()
            late.goto(share_url)
            late.fill("#nickname", "Latecomer")
            late.click("#join-button")
            expect(late.locator("#join-form")).to_be_hidden()
            late.locator("#give-up").click()
            late.locator("#give-up-yes").click()
            expect(late.locator("#end-rank")).to_contain_text("played off the leaderboard")
            expect(late.locator("#board-rank")).to_have_text("off the board")
        finally:
            same_network.close()

        # The host's page on a phone, for a person to look at.
        page.set_viewport_size(PHONE)
        page.goto(swaps_url)
        save_screenshot(page, "game-host-shared-phone")
    finally:
        host_context.close()
        guest_context.close()
        desktop_context.close()
