"""Landing and account pages in a real Chromium, at desktop and phone sizes."""

import pytest

pytestmark = pytest.mark.browser

PAGES = {"landing": "/", "login": "/accounts/login/", "signup": "/accounts/signup/"}
BRAND_RGB = "rgb(79, 70, 229)"  # --brand in site.css


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
@pytest.mark.parametrize("name", list(PAGES))
def test_page_renders_styled_without_sideways_scrolling(browser_server, new_page, screenshot, name, viewport):
    page = new_page(viewport)

    response = page.goto(browser_server.url + PAGES[name])

    assert response is not None and response.status == 200
    # The stylesheet arrived through whitenoise: the primary button wears the brand colour.
    primary = page.locator(".button.primary").first
    assert primary.evaluate("el => getComputedStyle(el).backgroundColor") == BRAND_RGB
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "page scrolls sideways"
    # Tap targets: primary actions are at least 36 px tall (44 px for full-size buttons).
    box = primary.bounding_box()
    assert box is not None and box["height"] >= 36
    screenshot(page, f"{name}-{viewport}")


def test_landing_steps_sit_side_by_side_on_desktop_and_stack_on_a_phone(browser_server, new_page):
    tops = {}
    for viewport in ("desktop", "phone"):
        page = new_page(viewport)
        page.goto(browser_server.url + "/")
        tops[viewport] = page.locator(".steps > li").evaluate_all(
            "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
        )

    assert len(set(tops["desktop"])) == 1, tops
    assert tops["phone"] == sorted(tops["phone"]) and len(set(tops["phone"])) == 3, tops


def test_sign_up_in_the_browser_signs_the_user_in(browser_server, new_page, screenshot):
    page = new_page("phone")
    page.goto(browser_server.url + "/accounts/signup/")
    page.fill("input[name=email]", "browser-host@example.com")
    page.fill("input[name=username]", "browserhost")
    page.fill("input[name=password1]", "a-long-enough-pass-42")
    page.fill("input[name=password2]", "a-long-enough-pass-42")

    with page.expect_navigation():
        page.click("form.auth-form button[type=submit]")
    page.goto(browser_server.url + "/")

    assert page.locator("nav.nav").get_by_text("My rooms").is_visible()
    assert page.locator("nav.nav").get_by_role("button", name="Sign out").is_visible()
    screenshot(page, "landing-signed-in-phone")


def test_wrong_password_shows_the_error_in_the_form(browser_server, new_page, screenshot):
    browser_server.create_user("pagehost", "page-host-pass-1")
    page = new_page("phone")
    page.goto(browser_server.url + "/accounts/login/")
    page.fill("input[name=login]", "pagehost")
    page.fill("input[name=password]", "not-the-password")

    with page.expect_navigation():
        page.click("form.auth-form button[type=submit]")

    assert page.locator(".form-errors").is_visible()
    screenshot(page, "login-error-phone")

    browser_server.sign_in(page, "pagehost", "page-host-pass-1")
    page.goto(browser_server.url + "/")
    assert page.locator("nav.nav").get_by_text("My rooms").is_visible()
