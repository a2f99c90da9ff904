"""Browser fixtures: a real daphne server on a throwaway SQLite file, and Debian's Chromium via Playwright.

Reuse them for room and game pages:

    @pytest.mark.browser
    def test_room_page(browser_server, new_page, screenshot):
        browser_server.create_user("host", "host-pass-123")
        page = new_page("phone")
        browser_server.sign_in(page, "host", "host-pass-123")
        page.goto(browser_server.url + "/rooms/")
        screenshot(page, "rooms-phone")
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOT_DIR = ROOT / "test-output" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# A loaded 2-core CI machine can take a while to import Django, dlib and friends.
SERVER_START_TIMEOUT = 120


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_manage(env: dict[str, str], *args: str) -> str:
    """Run a manage.py command with a server's environment (its database) and return its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@dataclass
class BrowserServer:
    """A running daphne serving the app from its own var dir (database, media)."""

    url: str
    env: dict[str, str]
    var_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    def manage(self, *args: str) -> str:
        """Run a manage.py command against the server's database and return its output."""
        return run_manage(self.env, *args)

    def create_user(self, username: str, password: str, email: str = "") -> None:
        """Create an account in the server's database."""
        email = email or f"{username}@example.com"
        code = (
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user(username={username!r}, email={email!r}, password={password!r})"
        )
        self.manage("shell", "-c", code)

    def sign_in(self, page, username: str, password: str) -> None:
        """Sign in through the real login form."""
        page.goto(f"{self.url}/accounts/login/")
        page.fill("input[name=login]", username)
        page.fill("input[name=password]", password)
        with page.expect_navigation():
            page.click("form.auth-form button[type=submit]")

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def wait_until_serving(server: BrowserServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"daphne exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"daphne did not answer within {SERVER_START_TIMEOUT}s:\n{server.log_tail()}")


@pytest.fixture(autouse=True)
def _require_chromium() -> None:
    # Autouse fixtures run first: skip before paying for a server start.
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests")


@pytest.fixture(scope="session")
def browser_server() -> Iterator[BrowserServer]:
    """Start daphne (ASGI + whitenoise, as in production) on a free port with a fresh database."""
    var_dir = Path(tempfile.mkdtemp(prefix="crowdswap-browser-"))
    env = {
        **os.environ,
        "CROWDSWAP_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "crowdswap.settings",
        "DEBUG": "1",
        "PYTHONUNBUFFERED": "1",
    }
    # The server must not reach the developer's database, Redis or bucket.
    for name in ("DATABASE_URL", "REDIS_URL", "AWS_STORAGE_BUCKET_NAME", "MEDIA_ROOT"):
        env.pop(name, None)
    port = free_port()
    log_path = var_dir / "daphne.log"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "crowdswap.asgi:application",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = BrowserServer(url=f"http://127.0.0.1:{port}", env=env, var_dir=var_dir, log_path=log_path, process=process)
    try:
        wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch Debian's Chromium once per module; Playwright never downloads a browser here.

    Not once per session: sync Playwright keeps an event loop running on this thread while
    it is open, which would break later tests that use asyncio.run or the Django ORM.
    """
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=120_000)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser) -> Iterator[Callable[[str], object]]:
    """Return a factory for pages in a fresh context sized as "desktop" or "phone"."""
    contexts = []

    def make(viewport: str = "desktop"):
        options: dict[str, object] = {"viewport": VIEWPORTS[viewport]}
        if viewport == "phone":
            options.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        context.set_default_timeout(60_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG under test-output/screenshots/ for a person to look at (the whole page, or what is on screen)."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture
def screenshot() -> Callable[[object, str], Path]:
    """Return save_screenshot, so tests need not import from conftest."""
    return save_screenshot
