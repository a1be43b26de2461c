"""Issue 12's journeys in a real browser: a member reads a decision message on a phone, and a general-branch
admin imports members into one of its child branches from its own page."""

import pytest
from django.utils import timezone

from approvals.services import request_reject
from members.models import Member
from members.services import personal_info_request
from orgs.permissions import Actor
from tests.e2e.helpers import PASSWORD, log_in
from tests.import_helpers import member_row, xlsx

PHONE = {"width": 375, "height": 740}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_member_reads_a_decision_message_on_a_phone(browser, live_server, e2e_settings, captcha_test_mode,
                                                     org_types, tree):
    person = tree.member.person
    person.set_password(PASSWORD)
    person.password_set_at = timezone.now()
    person.save()
    req = personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900001111"})
    request_reject(request_id=req.pk, actor=Actor(person=tree.branch_admin, org=tree.branch), reason="号码有误请核对")

    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server.url, person.id_number)
        page.goto(f"{live_server.url}/")
        # The home page shows the message and the unread count is visible without opening the menu.
        assert page.get_by_test_id("unread-count-phone").inner_text().strip() == "1"
        assert "号码有误请核对" in page.get_by_test_id("home-message-list").inner_text()
        page.get_by_test_id("nav-messages-phone").click()
        page.wait_for_url(f"{live_server.url}/messages/")
        message = page.get_by_test_id("message").first
        assert "号码有误请核对" in message.inner_text() and "驳回" in message.inner_text()
        box = message.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        message.get_by_test_id("message-open").click()
        page.wait_for_url(f"{live_server.url}/requests/{req.pk}/")
        assert "号码有误请核对" in page.content()
        page.goto(f"{live_server.url}/messages/")
        assert page.get_by_test_id("unread-badge").count() == 0
        assert page.get_by_test_id("unread-count-phone").count() == 0
        # Their requests read on the phone too: one card per request, the status on screen.
        page.goto(f"{live_server.url}/my/requests/")
        status = page.locator("[data-testid=my-request] [data-testid=status]").first
        box = status.bounding_box()
        assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_general_branch_admin_imports_members_into_a_child_branch(browser, live_server, e2e_settings,
                                                                  captcha_test_mode, org_types, tree, settings,
                                                                  tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    workbook = tmp_path / "二班团员.xlsx"
    workbook.write_bytes(xlsx([member_row("赵一"), member_row("赵二")]))
    context = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    try:
        log_in(page, live_server.url, tree.gb_admin.id_number)
        page.get_by_test_id("nav-import").click()  # 添加团员团干部
        page.wait_for_url(f"{live_server.url}/orgs/{tree.gb.pk}/people/add/")
        row = page.locator(f"[data-testid=add-members-branch][data-org='{tree.branch2.pk}']")
        assert "二班团支部" in row.inner_text()
        row.get_by_test_id("import-members-link").click()
        page.wait_for_url(f"{live_server.url}/orgs/{tree.branch2.pk}/import/")
        page.get_by_test_id("upload-file").set_input_files(str(workbook))
        page.get_by_test_id("upload-submit").click()
        sentence = page.get_by_test_id("result-sentence")
        sentence.wait_for()
        assert "2" in sentence.inner_text()
        assert set(Member.objects.filter(branch=tree.branch2, person__name__startswith="赵").values_list(
            "person__name", flat=True)) == {"赵一", "赵二"}
        # The child branch's own page offers the same import to its superior.
        page.goto(f"{live_server.url}/orgs/{tree.branch.pk}/")
        page.get_by_test_id("branch-import-members").click()
        page.wait_for_url(f"{live_server.url}/orgs/{tree.branch.pk}/import/")
    finally:
        context.close()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_member_list_and_inbox_fit_a_phone(browser, live_server, e2e_settings, captcha_test_mode, org_types, tree):
    from tests import factories as f

    person = tree.member.person
    person.phone = "13800138000"
    person.save(update_fields=["phone"])
    personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900001111"})
    for name in ("欧阳明月", "司马长风"):
        f.make_member(tree.branch, person=f.make_person(name=name, phone="13700137000"))
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server.url, tree.branch_admin.id_number)
        for url in (f"/orgs/{tree.branch.pk}/members/", "/inbox/"):
            page.goto(f"{live_server.url}{url}")
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], url
            # Each cell within the screen, and names on one line (not one character per line).
            for cell in page.locator("table.zhtj-stack td").all():
                box = cell.bounding_box()
                if box and box["width"]:
                    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, url
        page.goto(f"{live_server.url}/orgs/{tree.branch.pk}/members/")
        name = page.get_by_text("欧阳明月").first
        assert name.bounding_box()["height"] < 40
        assert page.get_by_text("137****7000").count() >= 1
    finally:
        context.close()
