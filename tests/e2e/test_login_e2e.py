"""In a real browser: the Chinese login page with its captcha, a first login with the initial password, the
forced set-password step, then home."""

import pytest
from django.utils import translation

from members.models import Person
from tests import factories as f
from tests.e2e.helpers import submit_login_form

NEW = "Violet-harbour-77"


def zh(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_first_login_with_initial_password_sets_password_then_lands_home(
    browser, live_server, e2e_settings, captcha_test_mode
):
    person = f.make_person(name="李小红", password=None)
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login/")
        assert page.locator("html").get_attribute("lang") == "zh-hans"
        assert page.locator("main").get_by_text("智慧团建", exact=True).is_visible()
        assert page.locator("label[for=id_id_number]").inner_text().strip() == zh("ID number")
        assert page.locator("img.captcha").is_visible()

        # The captcha refresh link swaps image and key without reloading the page.
        old_key = page.locator("input[name=captcha_0]").input_value()
        page.get_by_test_id("captcha-refresh").click()
        page.wait_for_function(
            "old => document.querySelector('input[name=captcha_0]').value !== old", arg=old_key
        )
        assert old_key not in page.locator("img.captcha").get_attribute("src")

        # A wrong password first: the one generic message.
        submit_login_form(page, person.id_number, "not-my-password")
        page.wait_for_load_state()
        assert page.get_by_test_id("form-error").inner_text().strip() == zh("The ID number or password is incorrect.")

        # The initial password: last eight characters of the ID number.
        submit_login_form(page, person.id_number, person.id_number[-8:])
        page.wait_for_url(f"{live_server.url}/password/set/")

        # Nothing else is reachable before a real password is set.
        page.goto(f"{live_server.url}/password/change/")
        assert page.url == f"{live_server.url}/password/set/"

        # A password against the rules is refused with its reason.
        page.fill("input[name=new_password1]", person.id_number[-8:])
        page.fill("input[name=new_password2]", person.id_number[-8:])
        page.click("form[data-testid=password-set-form] button[type=submit]")
        page.wait_for_load_state()
        assert page.url == f"{live_server.url}/password/set/"
        assert page.get_by_test_id("field-error").first.is_visible()

        page.fill("input[name=new_password1]", NEW)
        page.fill("input[name=new_password2]", NEW)
        page.click("form[data-testid=password-set-form] button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        assert "李小红" in page.locator("main").inner_text()
        person = Person.objects.get(pk=person.pk)
        assert person.password_set_at is not None and person.check_password(NEW)
    finally:
        context.close()
