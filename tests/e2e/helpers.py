"""Browser steps shared by the e2e tests: logging in through the real login form.

The captcha answer "PASSED" is only accepted in captcha test mode, so tests using these steps also ask for
the `captcha_test_mode` fixture (tests/e2e/conftest.py) and `e2e_settings` (tests/conftest.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

PASSWORD = "Str0ng-pass!"  # tests.factories.make_person's default


def submit_login_form(page: Page, id_number: str, password: str) -> None:
    """Fill the login form already on the page (captcha in test mode) and submit it; does not wait."""
    page.fill("input[name=id_number]", id_number)
    page.fill("input[name=password]", password)
    page.fill("input[name=captcha_1]", "PASSED")
    page.click("form[data-testid=login-form] button[type=submit]")


def log_in(page: Page, base_url: str, id_number: str, password: str = PASSWORD) -> None:
    """Open the login page, log in as `id_number` and wait for the page the login leads to."""
    page.goto(f"{base_url}/login/")
    submit_login_form(page, id_number, password)
    page.wait_for_load_state()
