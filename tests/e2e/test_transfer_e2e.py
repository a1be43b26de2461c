"""Issue 4 end to end in a real browser: a branch admin transfers a member out to a work committee, the
committee's admin approves it from the one approvals inbox and allocates a branch, and the member appears
in the new branch's member list and is gone from the old one."""

import os

import pytest

from members.models import Member
from tests import factories as f
from tests.e2e.helpers import log_in
from transfers.models import Status, Transfer

SHOTS = os.environ.get("ZHTJ_E2E_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"transfer-{name}.png"), full_page=True)


def member_names(page, base: str, org) -> list[str]:
    page.goto(f"{base}/orgs/{org.pk}/members/")
    table = page.get_by_test_id("member-table")
    if not table.count():
        return []
    return [name.strip() for name in table.locator("tbody tr td:first-child").all_inner_texts()]


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_transfer_out_to_committee_is_approved_allocated_and_moves_the_member(
    browser, live_server, e2e_settings, captcha_test_mode, org_types, tree
):
    base = live_server.url
    member = f.make_member(tree.branch, person=f.make_person(name="王小明", password=None))
    source_ctx = browser.new_context(locale="zh-CN")
    target_ctx = browser.new_context(locale="zh-CN")
    try:
        # --- the branch admin transfers the member out to the work committee -----------------------------
        page = source_ctx.new_page()
        log_in(page, base, tree.branch_admin.id_number)
        assert page.get_by_test_id("acting-org").inner_text().strip() == tree.branch.short_name
        page.get_by_test_id("nav-transfers").click()
        page.get_by_test_id("new-transfer-out").click()
        page.select_option("select[name=member]", str(member.pk))
        page.get_by_test_id("org-search").fill("W0001")
        page.locator("[data-testid=org-result][data-code=W0001]").click()
        assert "W0001" in page.get_by_test_id("org-chosen").inner_text()
        page.select_option("select[name=reason]", "工作调动")
        shot(page, "01-out-form")
        page.get_by_test_id("submit").click()
        page.wait_for_load_state()
        transfer = Transfer.objects.get(member=member)
        assert page.url.endswith(f"/transfers/{transfer.pk}/")
        assert transfer.status == Status.PENDING and transfer.target_org_id == tree.wc.pk
        assert page.get_by_test_id("transfer-status").is_visible()
        shot(page, "02-submitted")

        # --- the work committee's admin approves it in the one inbox ---------------------------------------
        admin = target_ctx.new_page()
        log_in(admin, base, tree.wc_admin.id_number)
        admin.goto(f"{base}/inbox/")
        row = admin.locator(f"[data-testid=request-row][data-request='{transfer.request_id}']")
        row.locator("input[name=requests]").check()
        shot(admin, "03-inbox")
        admin.get_by_test_id("approve-selected").click()
        admin.wait_for_load_state()
        transfer.refresh_from_db()
        assert transfer.status == Status.APPROVED
        # Approved but not yet allocated: the member stays where they are.
        assert Member.objects.get(pk=member.pk).branch_id == tree.branch.pk

        # --- the allocation task: choose a branch in the committee's subtree -------------------------------
        admin.goto(f"{base}/transfers/?tab=allocation")
        admin.locator(f"[data-testid=transfer-row][data-transfer='{transfer.pk}'] a").first.click()
        admin.wait_for_load_state()
        options = admin.locator("select[name=branch] option").evaluate_all("els => els.map(e => e.value)")
        assert str(tree.other_root.pk) not in options and str(tree.sibling.pk) in options
        admin.select_option("select[name=branch]", str(tree.sibling.pk))
        shot(admin, "04-allocate")
        admin.get_by_test_id("allocate").click()
        admin.wait_for_load_state()
        assert admin.get_by_test_id("step-allocated").is_visible()
        assert admin.get_by_test_id("step-completed").is_visible()
        shot(admin, "05-completed")

        # --- the member is in the new branch and gone from the old one -------------------------------------
        assert "王小明" in member_names(admin, base, tree.sibling)
        assert "王小明" not in member_names(admin, base, tree.branch)
        transfer.refresh_from_db()
        assert transfer.status == Status.COMPLETED and transfer.allocated_branch_id == tree.sibling.pk
        # The source admin sees the same progress, and no longer has the member.
        page.goto(f"{base}/transfers/{transfer.pk}/")
        assert page.get_by_test_id("step-completed").is_visible()
        assert "王小明" not in member_names(page, base, tree.branch)
    finally:
        source_ctx.close()
        target_ctx.close()
