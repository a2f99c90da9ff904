"""The swap form in Chromium, at 1280x800 and 390x844: each friend's fit for the crowd, the placement preview,
pinning a friend by clicking a boxed face (and a refusal in words), re-rolling, the warning before a poor fit, and
who was left out on the version. Screenshots land in test-output/screenshots/swap-form-*.png.

The shared browser server runs no worker: the test runs the photo, crowd and swap jobs in a separate process, as a
worker would.
"""

import json
import re
import tempfile
from pathlib import Path

import pytest

from tests.browser.conftest import save_screenshot
from tests.swaps.test_fit_in_the_app import MEN, tiled_crowd

pytestmark = pytest.mark.browser

# Photos whose faces cluster into one person each (tests/rooms/photos.py): two women and a man.
FRIENDS = {
    "Angie": ("angelina_jolie", ("img10.jpg", "img2.jpg", "img6.jpg")),
    "Jen": ("jennifer_aniston", ("img3.jpg", "img53.jpg", "img56.jpg")),
    "Mark": ("mark_zuckerberg", ("img13.jpg", "img14.jpg", "img57.jpg")),
}
VERDICT = re.compile(r"^(Good|Fair|Poor) fit$")
RUN_JOBS = "from tests.rooms.photos import run_queued_jobs; print(len(run_queued_jobs()))"


def prepare_room(server, username: str, data_dir: Path, men_path: Path) -> dict:
    """Create a room with the friends (named) and two crowds, stadium.jpg and a crowd of men; return their ids."""
    friends = {
        name: [str(data_dir / "identities" / person / f) for f in files] for name, (person, files) in FRIENDS.items()
    }
    code = f"""
import json
from pathlib import Path
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rooms.services import photos
from rooms.services.rooms import create_room
from swaps.services import crowds
from tests.rooms.photos import run_queued_jobs, small_jpeg

def upload(name, content):
    return SimpleUploadedFile(name, content, content_type="image/jpeg")

room = create_room(owner=get_user_model().objects.get(username={username!r}), title="Cup final")
friends = {friends!r}
photos.add_photos(room=room, files=[upload(f"{{n}}-{{i}}.jpg", small_jpeg(Path(p))) for n, ps in friends.items() for i, p in enumerate(ps)])
crowds.add_crowd_photos(room=room, files=[upload("men.jpg", Path({str(men_path)!r}).read_bytes())])
crowds.add_crowd_photos(room=room, files=[upload("stadium.jpg", Path({str(data_dir / "crowds" / "stadium.jpg")!r}).read_bytes())])
run_queued_jobs()
people = {{}}
for identity in room.identities.all():
    identity.name = identity.faces.first().photo.original_name.rsplit("-", 1)[0]
    identity.save()
    people[identity.name] = identity.pk
print(json.dumps({{"room": room.pk, "people": people, "crowds": {{c.original_name: c.pk for c in room.crowd_photos.all()}}}}))
"""
    out = server.manage("shell", "-c", code)
    made = json.loads(out.strip().splitlines()[-1])
    assert sorted(made["people"]) == sorted(FRIENDS), made
    return made


def fit_badge(page, identity: int):
    return page.locator(f'.friend-row[data-identity="{identity}"] .fit-line .badge')


def placed_faces(page) -> dict[str, str]:
    """Return who is on which face in the preview: {name: crowd face id}."""
    return page.locator(".host-box.placed").evaluate_all(
        "boxes => Object.fromEntries(boxes.map(b => [b.querySelector('.host-label').textContent, b.dataset.face]))"
    )


def free_face_for(page, identity: int) -> int:
    """Return a face nobody takes in the preview that the friend may go on (the page's first state says)."""
    state = json.loads(page.locator("#placement-state").text_content())
    taken = {int(face) for face in placed_faces(page).values()}
    (friend,) = [f for f in state["friends"] if f["identity"] == identity]
    allowed = [f for f in friend["faces"] if f["allowed"] and f["crowd_face"] not in taken]
    return max(allowed, key=lambda f: f["score"])["crowd_face"]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(scope="module")
def men_path(data_dir) -> Path:
    path = Path(tempfile.mkdtemp(prefix="crowdswap-men-")) / "men.jpg"
    path.write_bytes(tiled_crowd(data_dir, MEN))
    return path


def test_swap_form_fits_pins_rerolls_and_warns(browser_server, new_page, data_dir, men_path):
    from playwright.sync_api import expect

    browser_server.create_user("fithost", "fit-host-pass-1")
    made = prepare_room(browser_server, "fithost", data_dir, men_path)
    room, people, crowds = made["room"], made["people"], made["crowds"]
    angie, jen, mark = people["Angie"], people["Jen"], people["Mark"]
    url = f"{browser_server.url}/rooms/{room}/swaps/"

    page = new_page("desktop")
    browser_server.sign_in(page, "fithost", "fit-host-pass-1")
    page.goto(url)
    # The crowd that can host most is chosen: the stadium. Every friend shows a verdict in words.
    expect(page.locator("#swap-crowd")).to_have_value(str(crowds["stadium.jpg"]))
    for identity in people.values():
        expect(fit_badge(page, identity)).to_have_text(VERDICT)
    good = [name for name, pk in people.items() if fit_badge(page, pk).inner_text() == "Good fit"]
    ticked = page.locator('input[name="identities"]:checked').evaluate_all("boxes => boxes.map(b => Number(b.value))")
    assert sorted(ticked) == sorted(people[name] for name in good) and good, good
    # The preview names each ticked friend on the face they would take.
    expect(page.locator(".host-box.placed")).to_have_count(len(good))
    assert sorted(placed_faces(page)) == sorted(good)
    assert no_sideways_scroll(page)
    save_screenshot(page, "swap-form-stadium-desktop")

    # Re-roll: another placement among faces that fit about as well; the seed goes with the form.
    before = placed_faces(page)
    page.click("#reroll")
    expect(page.locator("#placement-note")).to_contain_text("New placement")
    after = placed_faces(page)
    assert sorted(after) == sorted(before) and after != before
    assert page.locator("#swap-seed").input_value().isdigit()

    # Pin Mark by clicking a face nobody takes: the panel lists who may go there, with the fit.
    if mark not in ticked:
        page.check(f'input[name="identities"][value="{mark}"]')
    # The preview answers each change: click only on the placement the page shows once it has settled.
    expect(page.locator("#swap-form")).not_to_have_class(re.compile(r"\bis-busy\b"))
    face_id = str(free_face_for(page, mark))
    page.locator(f'.host-box[data-face="{face_id}"]').click()
    panel = page.locator("#face-panel")
    expect(panel).to_be_in_viewport(ratio=1)  # scrolled on screen, clear of the sticky header
    expect(panel.locator(f'[data-pin="{mark}"]')).to_be_visible()
    expect(panel.locator(f'[data-pin="{mark}"]')).not_to_have_attribute("aria-disabled", "true")
    save_screenshot(page, "swap-form-face-panel-desktop", full_page=False)
    panel.locator(f'[data-pin="{mark}"]').click()
    pinned = page.locator(f'.host-box[data-face="{face_id}"]')
    expect(pinned.locator(".host-label")).to_have_text("Mark")
    expect(pinned).to_have_class(re.compile(r"\bpinned\b"))
    expect(pinned).to_have_attribute("aria-label", re.compile(r"^Mark goes on this face \(pinned\)"))
    expect(page.locator("#placement-note")).to_contain_text("Mark is pinned to this face")
    expect(page.locator(f'.friend-row[data-identity="{mark}"] .unpin')).to_be_visible()
    expect(page.locator(f'.friend-row[data-identity="{mark}"] .place-line')).to_contain_text("Pinned to the face")
    assert page.locator("#swap-pins").input_value() == f"{mark}:{face_id}"
    save_screenshot(page, "swap-form-pinned-desktop")

    # A crowd of men: the women's verdicts turn poor, with the reason; only Mark is ticked.
    page.select_option("#swap-crowd", str(crowds["men.jpg"]))
    expect(fit_badge(page, angie)).to_have_text("Poor fit")
    expect(page.locator(f'.friend-row[data-identity="{jen}"] .fit-reasons')).to_contain_text(
        "looks like a man, the friend does not"
    )
    assert page.locator("#swap-pins").input_value() == ""  # pins belong to the crowd they were made on
    # Clicking a man's face for Angie: she cannot go there, and the form says why.
    page.check(f'input[name="identities"][value="{angie}"]')
    expect(page.locator(f'.friend-row[data-identity="{angie}"] .place-line')).to_contain_text("Won't be hidden")
    page.locator(".host-box").first.click()
    choice = page.locator(f'#face-panel [data-pin="{angie}"]')
    expect(choice).to_have_attribute("aria-disabled", "true")
    expect(choice).to_contain_text("Can't go here")
    choice.click(force=True)  # aria-disabled: Playwright would wait for it to be enabled; a person just clicks
    expect(page.locator("#placement-note")).to_have_text(
        re.compile("^Angie can't go on that face: looks like a man, the friend does not")
    )
    save_screenshot(page, "swap-form-men-refused-desktop")
    page.click("#face-panel-close")

    # Starting with the women ticked (Jen was ticked for the stadium): the form names them and waits.
    page.click("#start-swap")
    warning = page.locator("#poor-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Angie and Jen won't be hidden: looks like a man, the friend does not.")
    save_screenshot(page, "swap-form-warning-desktop", full_page=False)
    with page.expect_navigation():
        page.click("#start-anyway")
    browser_server.manage("shell", "-c", RUN_JOBS)
    page.reload()
    version = page.locator(".swap-version").first
    expect(version.locator(".version-friends")).to_have_text("Mark")
    expect(version.locator(".unplaced-notes")).to_contain_text(
        "Angie wasn't hidden: looks like a man, the friend does not"
    )
    save_screenshot(page, "swap-form-version-unplaced-desktop")

    # The crowd page: lookalikes in the latest crowd (the stadium) are faces a person could take, with the verdict.
    page.goto(f"{browser_server.url}/rooms/{room}/crowds/")
    expect(page.locator(f'.lookalike-row[data-identity="{mark}"] .lookalike-item')).not_to_have_count(0)
    expect(page.locator(f'.lookalike-row[data-identity="{mark}"] .badge').first).to_have_text(
        re.compile(r"^(Good|Fair|Poor)$")
    )
    save_screenshot(page, "crowd-lookalikes-desktop")

    # On a phone: the same form, no sideways scrolling, zoom makes the small stadium faces large enough to tap.
    phone = new_page("phone")
    browser_server.sign_in(phone, "fithost", "fit-host-pass-1")
    phone.goto(url)
    phone.select_option("#swap-crowd", str(crowds["stadium.jpg"]))
    expect(fit_badge(phone, mark)).to_have_text(VERDICT)
    assert no_sideways_scroll(phone)
    save_screenshot(phone, "swap-form-stadium-phone")
    small = phone.locator(".host-box").first.bounding_box()
    phone.click("#zoom")
    expect(phone.locator("#zoom")).to_have_text("Zoom out")
    big = phone.locator(".host-box").first.bounding_box()
    assert big["width"] > 2 * small["width"]
    assert no_sideways_scroll(phone)
    phone.locator(".host-box.placed").first.click()
    expect(phone.locator("#face-panel")).to_be_in_viewport(ratio=1)
    save_screenshot(phone, "swap-form-zoomed-phone", full_page=False)
