"""Issue 2 end to end in a real browser: an admin logs in (captcha in test mode), walks the tree, creates a
branch and generates its registration code; in a second browser context the new admin registers with that
code, completes the org info, and later logs in with their own password."""

import os
import re

import pytest
from django.utils import translation

from members.models import Person
from orgs.models import Org, OrgAdmin, RegistrationCode
from tests import factories as f
from tests.e2e.helpers import log_in

ADMIN_PASSWORD = "Str0ng-pass!"  # tests.factories.make_person's default
NEW_PASSWORD = "Maple-lantern-48"
SHOTS = os.environ.get("ZHTJ_E2E_SCREENSHOTS")  # a directory: save a screenshot of each step there


def zh(text: str) -> str:
    """The page's language: Simplified Chinese when the catalog has it, else the English source."""
    with translation.override("zh-hans"):
        return translation.gettext(text)


WRONG_CODE = (
    "This code is not valid for %(org)s. Codes are case-sensitive: check each letter, and check that you"
    " chose the organization the code was issued for."
)


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_creates_a_branch_and_its_new_admin_registers_with_the_code(
    browser, live_server, e2e_settings, captcha_test_mode, tree
):
    base = live_server.url
    admin = tree.wc_admin
    first = browser.new_context(locale="zh-CN")
    second = browser.new_context(locale="zh-CN")
    try:
        # --- the superior admin: log in, walk the tree ---------------------------------------------------
        page = first.new_page()
        log_in(page, base, admin.id_number, ADMIN_PASSWORD)
        assert page.get_by_test_id("acting-org").inner_text().strip() == tree.wc.short_name
        shot(page, "01-landing")

        page.goto(f"{base}/orgs/")
        tree_box = page.get_by_test_id("org-tree")
        gb_node = tree_box.locator(f"li[data-org={tree.gb.code}]")
        assert gb_node.is_visible()
        # Expand the general branch on demand: its branches arrive by htmx.
        assert not tree_box.locator(f"li[data-org={tree.branch.code}]").is_visible()
        gb_node.locator("[data-tree-toggle]").first.click()
        tree_box.locator(f"li[data-org={tree.branch.code}]").wait_for(state="visible")
        assert tree_box.locator(f"li[data-org={tree.branch2.code}]").is_visible()
        shot(page, "02-tree-expanded")

        # --- create a branch directly under the work committee ---------------------------------------------
        page.goto(f"{base}/orgs/{tree.wc.pk}/")
        page.get_by_test_id("create-child").click()
        page.wait_for_url(re.compile(r"/children/new/$"))
        page.select_option("select[name=type]", str(f.org_type("branch").pk))
        page.fill("input[name=short_name]", "青年突击队团支部")
        page.fill("input[name=full_name]", "区团工委青年突击队团支部")
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        new_org = Org.objects.get(short_name="青年突击队团支部")
        assert new_org.parent_id == tree.wc.pk and new_org.is_branch
        page.wait_for_url(f"{base}/orgs/{new_org.pk}/")
        shot(page, "03-branch-created")

        # --- generate its registration code -----------------------------------------------------------------
        page.goto(f"{base}/orgs/{tree.wc.pk}/")
        page.get_by_test_id("codes-link").click()
        page.wait_for_url(f"{base}/orgs/{tree.wc.pk}/codes/")
        page.get_by_test_id(f"generate-{new_org.code}").click()
        page.wait_for_load_state()
        code = page.get_by_test_id("code-value").inner_text().strip()
        assert len(code) == 10
        assert page.get_by_test_id(f"code-row-{new_org.code}").get_by_test_id("code-state").inner_text().strip()
        shot(page, "04-code-generated")

        # --- second browser context: the new admin registers with the code ----------------------------------
        reg = second.new_page()
        reg.goto(f"{base}/register/admin/")
        reg.get_by_test_id("org-search").fill("突击队")
        option = reg.get_by_test_id(f"org-option-{new_org.code}")
        option.wait_for(state="visible")
        option.locator("input[type=radio]").check()
        number = f.next_id_number()
        reg.fill("input[name=code]", code.swapcase())  # first the code in the wrong case: refused, named
        reg.fill("input[name=name]", "周新")
        reg.fill("input[name=id_number]", number)
        reg.fill("input[name=phone]", "13700137000")
        reg.fill("input[name=password]", NEW_PASSWORD)
        reg.fill("input[name=password2]", NEW_PASSWORD)
        reg.get_by_test_id("register-submit").click()
        reg.wait_for_load_state()
        assert "/register/admin/" in reg.url
        error = reg.get_by_test_id("field-error").first.inner_text().strip()
        assert error == zh(WRONG_CODE) % {"org": new_org.short_name}
        assert not Person.objects.filter(id_number=number).exists()
        shot(reg, "05-wrong-case-refused")

        reg.fill("input[name=code]", code)
        reg.fill("input[name=password]", NEW_PASSWORD)
        reg.fill("input[name=password2]", NEW_PASSWORD)
        reg.locator(f"input[name=org][value={new_org.code}]").check()
        reg.get_by_test_id("register-submit").click()
        reg.wait_for_url(f"{base}/orgs/{new_org.pk}/complete/")
        assert OrgAdmin.objects.get(org=new_org).person.id_number == number
        assert RegistrationCode.objects.get(org=new_org).used_at is not None
        shot(reg, "06-complete-org")

        # Complete the org info: contacts and the secretary (verified by the ID rules), one of the branch's
        # members (a branch's cadres are its members).
        reg.fill("input[name=contact_phone]", "010-66668888")
        reg.fill("input[name=secretary_name]", "吴书记")
        secretary_number = f.make_member(new_org, person=f.make_person(name="吴书记", password=None)).person.id_number
        reg.fill("input[name=secretary_id_number]", secretary_number)
        reg.fill("input[name=secretary_phone]", "13600136000")
        reg.get_by_test_id("complete-submit").click()
        reg.wait_for_url(f"{base}/orgs/{new_org.pk}/")
        new_org.refresh_from_db()
        assert new_org.secretary.id_number == secretary_number and not new_org.secretary_is_deputy

        # --- the code is spent; the new admin logs in with their own password ------------------------------
        reg.get_by_role("button", name=re.compile("周新")).click()
        reg.locator("form[action='/logout/'] button").click()
        reg.wait_for_url(f"{base}/login/")
        log_in(reg, base, number, NEW_PASSWORD)
        assert reg.get_by_test_id("acting-org").inner_text().strip() == new_org.short_name
        shot(reg, "07-new-admin-logged-in")

        # The superior's codes page now shows the code as used by the new admin.
        page.goto(f"{base}/orgs/{tree.wc.pk}/codes/")
        state = page.get_by_test_id(f"code-row-{new_org.code}").get_by_test_id("code-state").inner_text()
        assert "周新" in state
        shot(page, "08-code-used")
    finally:
        first.close()
        second.close()
