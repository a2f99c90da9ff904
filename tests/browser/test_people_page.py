"""The host's room page in Chromium: the overall upload count, and every people edit in place with undo.

The shared browser server runs no worker: photos wait, queued, until the test runs their jobs in a
separate process (as a worker would), so the count is seen before and after face-finding.
"""

import pytest

pytestmark = pytest.mark.browser

# Photos whose faces cluster into one person each (see tests/rooms/photos.py); three people in all.
PHOTOS = [
    "angelina_jolie/img10.jpg",
    "angelina_jolie/img2.jpg",
    "angelina_jolie/img6.jpg",
    "mark_zuckerberg/img13.jpg",
    "mark_zuckerberg/img14.jpg",
    "jennifer_aniston/img3.jpg",
]

RUN_JOBS = "from tests.rooms.photos import run_queued_jobs; print(len(run_queued_jobs()))"


def create_room(server, username: str) -> str:
    out = server.manage(
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model; from rooms.services.rooms import create_room; "
        f"print(create_room(owner=get_user_model().objects.get(username={username!r}), title='Birthday').pk)",
    )
    return out.strip().splitlines()[-1]


def people_ids(page) -> list[int]:
    return page.locator(".identity-card").evaluate_all("cards => cards.map(c => Number(c.dataset.identity))")


def card_of(page, name: str):
    return page.locator(".identity-card", has=page.locator(f'input[name=name][value="{name}"]'))


def assert_no_reload(page) -> None:
    assert page.evaluate("window.__sameDocument") == 1, "the page reloaded"


def assert_in_view_below_header(page, selector: str) -> None:
    """The edited card's note comes on screen, clear of the sticky header (the page scrolls it there smoothly)."""
    page.wait_for_function(
        """selector => {
            const note = document.querySelector(selector);
            const header = document.querySelector(".topbar").getBoundingClientRect();
            const box = note && note.getBoundingClientRect();
            return !!box && box.height > 0 && box.top >= header.bottom - 1 && box.bottom <= window.innerHeight;
        }""",
        arg=selector,
    )


def test_upload_count_and_people_edits_in_place_with_undo(browser_server, new_page, screenshot, data_dir):
    from playwright.sync_api import expect

    browser_server.create_user("peoplehost", "people-host-pass-1")
    room_id = create_room(browser_server, "peoplehost")
    page = new_page("desktop")
    browser_server.sign_in(page, "peoplehost", "people-host-pass-1")
    page.goto(f"{browser_server.url}/rooms/{room_id}/")

    # The script uploads as soon as files are chosen: its Upload button is for browsers without it.
    expect(page.locator("#upload-button")).to_be_hidden()
    page.set_input_files("#photo-files", [str(data_dir / "identities" / p) for p in PHOTOS])
    count = page.locator("#upload-count")
    # Every file arrived, and none is ready: "ready" means its faces were found, not that it was sent.
    expect(page.locator("#upload-detail")).to_have_text(f"{len(PHOTOS)} finding faces", timeout=120_000)
    expect(count).to_have_text(f"0 of {len(PHOTOS)} photos ready")
    screenshot(page, "room-upload-waiting-desktop")
    browser_server.manage("shell", "-c", RUN_JOBS)
    expect(count).to_have_text(f"All {len(PHOTOS)} photos ready", timeout=60_000)
    expect(page.locator(".identity-card")).to_have_count(3, timeout=30_000)
    screenshot(page, "room-upload-ready-desktop")

    # From here on, nothing reloads the page.
    page.evaluate("window.__sameDocument = 1")
    jolie, zuck, aniston = people_ids(page)

    # Rename in place: the note sits on the card, on screen.
    first = page.locator(f"#identity-{jolie}")
    first.locator("input[name=name]").fill("Angie")
    first.locator("input[name=name]").press("Enter")
    expect(page.locator(f"#identity-{jolie} .card-note")).to_have_text("Saved: this is Angie.")
    assert_in_view_below_header(page, f"#identity-{jolie} .card-note")
    page.locator(f"#identity-{zuck} input[name=name]").fill("Mark")
    page.locator(f"#identity-{zuck} .rename-form button").click()
    expect(page.locator(f"#identity-{zuck} .card-note")).to_contain_text("Mark")

    # Photos finishing refresh the section, but never under the host's fingers: a name being typed stays.
    typing = page.locator(f"#identity-{aniston} input[name=name]")
    typing.fill("Jen")
    page.evaluate("window.CrowdSwapPeople.refresh()")  # what rooms.js does when a photo's faces are found
    assert typing.input_value() == "Jen"
    typing.press("Enter")
    expect(page.locator(f"#identity-{aniston} .card-note")).to_have_text("Saved: this is Jen.")

    # Move a face out into a new person, then undo: the face is back and the extra person gone.
    angie_faces = page.locator(f"#identity-{jolie} .face-item")
    expect(angie_faces).to_have_count(3)
    moved_face = angie_faces.nth(2).get_attribute("data-face")
    angie_faces.nth(2).locator(".face-menu summary").click()
    angie_faces.nth(2).locator("select").select_option("new")
    angie_faces.nth(2).locator(".move-form button").click()
    note = page.locator(f"#identity-{jolie} .card-note")
    expect(note).to_contain_text("Moved a face out into Person")
    expect(page.locator(".identity-card")).to_have_count(4)
    expect(page.locator(f"#identity-{jolie} .face-item")).to_have_count(2)
    assert_in_view_below_header(page, f"#identity-{jolie} .card-note")
    screenshot(page, "people-moved-desktop")
    note.locator(".undo").click()
    expect(page.locator(".identity-card")).to_have_count(3)
    expect(page.locator(f'#identity-{jolie} .face-item[data-face="{moved_face}"]')).to_have_count(1)
    expect(page.locator(f"#identity-{jolie} .card-note")).to_have_text("Move undone: the face is back.")

    # Choose another cover photo: the card's picture follows.
    other = page.locator(f"#identity-{jolie} .face-item:not(.is-cover)").first
    other_id = other.get_attribute("data-face")
    other.locator(".face-menu summary").click()
    other.get_by_role("button", name="Use as cover photo").click()
    expect(page.locator(f"#identity-{jolie} .card-note")).to_have_text("Cover photo changed.")
    expect(page.locator(f'#identity-{jolie} .face-item.is-cover[data-face="{other_id}"]')).to_have_count(1)
    assert page.locator(f"#identity-{jolie} .cover-thumb").get_attribute("src").endswith(f"/faces/{other_id}/thumb")

    # Hide, then undo from the note.
    page.locator(f"#identity-{aniston} .hide-form button").click()
    expect(page.locator(f"#identity-{aniston} .badge.warning")).to_have_text("Hidden")
    # Photos finishing elsewhere fetch the section again: the note and its Undo stay.
    page.evaluate("() => window.CrowdSwapPeople.refresh()")
    expect(page.locator(f"#identity-{aniston} .card-note")).to_contain_text("Hidden from swaps and albums.")
    page.locator(f"#identity-{aniston} .card-note .undo").click()
    expect(page.locator(f"#identity-{aniston} .badge.warning")).to_have_count(0)

    # "Not a face", then undo. A refresh already on its way when the host opens the face's menu waits for the menu
    # to close (landing, it closed the menu under the host's finger): the page's fetches are slowed to show it.
    page.evaluate(
        "() => { window.__fetch = window.fetch; window.fetch = (url, options) => window.__fetch(url, options)"
        ".then((response) => new Promise((done) => setTimeout(() => done(response), 1500))); }"
    )
    page.evaluate("() => { window.CrowdSwapPeople.refresh(); }")
    face = page.locator(f"#identity-{zuck} .face-item").first
    face.locator(".face-menu summary").click()
    page.wait_for_timeout(2500)
    expect(face.locator(".face-menu[open]")).to_have_count(1)
    page.evaluate("() => { window.fetch = window.__fetch; }")
    face.get_by_role("button", name="Not a face").click()
    expect(page.locator(f"#identity-{zuck} .card-note")).to_contain_text("Marked as not a face.")
    expect(page.locator(".ignored summary")).to_have_text("1 marked “not a face”")
    page.locator(f"#identity-{zuck} .card-note .undo").click()
    expect(page.locator(".ignored")).to_have_count(0)

    # Multi-select merge from the bar that appears, then undo it.
    expect(page.locator("#merge-bar")).to_be_hidden()
    page.locator(f"#identity-{zuck} [data-select]").check()
    expect(page.locator("#merge-bar")).to_be_visible()
    expect(page.locator("#merge-button")).to_be_disabled()
    page.locator(f"#identity-{aniston} [data-select]").check()
    expect(page.locator("#merge-button")).to_have_text("Merge into Mark")
    screenshot(page, "people-selected-desktop")
    page.locator("#merge-button").click()
    expect(page.locator(".identity-card")).to_have_count(2)
    merged_note = page.locator(f"#identity-{zuck} .card-note")
    expect(merged_note).to_have_text("Merged 2 people into Mark.Undo")
    expect(page.locator("#merge-bar")).to_be_hidden()
    assert_in_view_below_header(page, f"#identity-{zuck} .card-note")
    screenshot(page, "people-merged-desktop")
    merged_note.locator(".undo").click()
    expect(page.locator(".identity-card")).to_have_count(3)
    expect(page.locator(f"#identity-{aniston}")).to_have_count(1)
    expect(page.locator(f"#identity-{zuck} .card-note")).to_have_text("Merge undone: they are separate again.")
    assert_no_reload(page)
    assert people_ids(page) == [jolie, zuck, aniston]

    # On a phone: a face's menu is a sheet at the bottom of the screen, and merge + undo work the same.
    phone = new_page("phone")
    browser_server.sign_in(phone, "peoplehost", "people-host-pass-1")
    phone.goto(f"{browser_server.url}/rooms/{room_id}/#people")
    phone.evaluate("window.__sameDocument = 1")
    phone_face = phone.locator(f"#identity-{jolie} .face-item").nth(1)
    phone_face.locator(".face-menu summary").click()
    sheet = phone_face.locator(".face-menu-body").bounding_box()
    assert sheet["x"] == 0 and sheet["width"] == 390 and abs(sheet["y"] + sheet["height"] - 844) <= 1, sheet
    screenshot(phone, "people-face-menu-phone")
    phone_face.locator("[data-close-menu]").click()
    phone.locator(f"#identity-{zuck} [data-select]").check()
    phone.locator(f"#identity-{aniston} [data-select]").check()
    bar = phone.locator("#merge-bar").bounding_box()
    assert bar["y"] + bar["height"] <= 844 and bar["width"] <= 390
    phone.locator("#merge-button").click()
    expect(phone.locator(".identity-card")).to_have_count(2)
    assert_in_view_below_header(phone, f"#identity-{zuck} .card-note")
    screenshot(phone, "people-merged-phone")
    phone.locator(f"#identity-{zuck} .card-note .undo").click()
    expect(phone.locator(".identity-card")).to_have_count(3)
    assert_no_reload(phone)
