"""Issue 3 in a real browser: a member edits their phone, the branch admin approves it from the inbox and the
member sees the new value; a second edit is rejected with a reason and the member sees the reason."""

import os

import pytest
from django.utils import timezone

from approvals.models import ApprovalRequest
from tests.e2e.helpers import log_in

PASSWORD = "Str0ng-pass!"  # tests.factories.make_person's default
SHOTS = os.environ.get("ZHTJ_E2E_SCREENSHOTS")  # a directory: save a screenshot of each step there


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"personal-info-{name}.png"), full_page=True)


def request_phone_change(page, base: str, phone: str) -> None:
    page.goto(f"{base}/me/")
    page.get_by_test_id("edit-my-record").click()
    page.wait_for_url(f"{base}/me/edit/")
    page.fill("input[name=phone]", phone)
    page.get_by_test_id("submit-change").click()
    page.wait_for_url(f"{base}/me/")
    assert phone in page.get_by_test_id("pending-request").inner_text()


def decide_in_inbox(page, base: str, request_id: int, *, approve: bool, reason: str = "") -> None:
    page.goto(f"{base}/inbox/")
    row = page.locator(f"tr[data-testid=request-row][data-request='{request_id}']")
    row.locator("input[name=requests]").check()
    if reason:
        page.fill("textarea[name=reason]", reason)
    page.get_by_test_id("approve-selected" if approve else "reject-selected").click()
    page.wait_for_load_state()


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_member_phone_edit_approved_then_second_edit_rejected_with_reason(
    browser, live_server, e2e_settings, captcha_test_mode, tree
):
    base = live_server.url
    member = tree.member
    person = member.person
    person.phone = "13912345678"
    person.set_password(PASSWORD)
    person.password_set_at = timezone.now()
    person.save()

    member_ctx = browser.new_context(locale="zh-CN")
    admin_ctx = browser.new_context(locale="zh-CN")
    try:
        # --- the member asks to change their phone -----------------------------------------------------------
        mpage = member_ctx.new_page()
        log_in(mpage, base, person.id_number, PASSWORD)
        request_phone_change(mpage, base, "13611112222")
        assert "13912345678" in mpage.get_by_test_id("rec-phone").inner_text()  # not yet changed
        shot(mpage, "01-pending")
        first = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk, status="pending")

        # --- the branch admin approves it from the inbox --------------------------------------------------------
        apage = admin_ctx.new_page()
        log_in(apage, base, tree.branch_admin.id_number, PASSWORD)
        assert apage.get_by_test_id("inbox-count").inner_text().strip() == "1"
        decide_in_inbox(apage, base, first.pk, approve=True)
        shot(apage, "02-approved")
        first.refresh_from_db()
        assert first.status == "approved"

        # --- the member sees the new value ----------------------------------------------------------------------
        mpage.goto(f"{base}/me/")
        assert "13611112222" in mpage.get_by_test_id("rec-phone").inner_text()
        assert mpage.get_by_test_id("last-request").is_visible()
        shot(mpage, "03-new-value")

        # --- a second edit, rejected with a reason --------------------------------------------------------------
        request_phone_change(mpage, base, "13733334444")
        second = ApprovalRequest.objects.get(kind="personal_info", target_id=member.pk, status="pending")
        decide_in_inbox(apage, base, second.pk, approve=False, reason="请填写本人实名登记的手机号")
        second.refresh_from_db()
        assert second.status == "rejected"

        mpage.goto(f"{base}/me/")
        assert mpage.get_by_test_id("reject-reason").inner_text().strip() == "请填写本人实名登记的手机号"
        assert "13611112222" in mpage.get_by_test_id("rec-phone").inner_text()
        shot(mpage, "04-rejected")
    finally:
        member_ctx.close()
        admin_ctx.close()
