"""The approvals inbox in a real browser: a branch admin hands the admin role to a cadre, the general branch's
admin approves it from the inbox (header badge, checkbox, one form), and the old admin's next page no longer
acts for the branch; the audit trail shows the change."""

import os

import pytest

from approvals.models import ApprovalRequest
from orgs.models import OrgAdmin
from tests import factories as f
from tests.e2e.helpers import log_in

SHOTS = os.environ.get("ZHTJ_E2E_SCREENSHOTS")  # a directory: save a screenshot of each step there


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"approvals-{name}.png"), full_page=True)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_admin_hand_over_approved_from_inbox_and_old_admin_loses_access(
    browser, live_server, e2e_settings, captcha_test_mode, org_types, tree
):
    base = live_server.url
    cadre = f.make_cadre(tree.branch, person=f.make_person(name="王新任")).person
    old_ctx = browser.new_context(locale="zh-CN")
    sup_ctx = browser.new_context(locale="zh-CN")
    try:
        # --- the branch's own admin hands the role to a cadre -------------------------------------------------
        old = old_ctx.new_page()
        log_in(old, base, tree.branch_admin.id_number)
        old.goto(f"{base}/orgs/{tree.branch.pk}/admin/change/")
        old.get_by_label("王新任", exact=False).check()
        old.fill("textarea[name=reason]", "换届选举")
        shot(old, "01-admin-change-form")
        old.get_by_test_id("submit").click()
        old.wait_for_load_state()
        req = ApprovalRequest.objects.get(kind="admin_change")
        assert old.url.endswith(f"/requests/{req.pk}/")
        assert OrgAdmin.objects.get(org=tree.branch).person == tree.branch_admin  # pending
        shot(old, "02-request-pending")

        # --- the general branch's admin sees it in the inbox and approves it ---------------------------------
        sup = sup_ctx.new_page()
        log_in(sup, base, tree.gb_admin.id_number)
        sup.goto(f"{base}/inbox/")
        assert sup.get_by_test_id("inbox-count").inner_text().strip() == "1"
        row = sup.locator(f"tr[data-testid=request-row][data-request='{req.pk}']")
        assert "王新任" in row.inner_text() and tree.branch_admin.name in row.inner_text()
        shot(sup, "03-inbox")
        row.locator("input[name=requests]").check()
        sup.get_by_test_id("approve-selected").click()
        sup.wait_for_load_state()
        assert sup.get_by_test_id("inbox-empty").is_visible()
        assert sup.get_by_test_id("inbox-count").count() == 0
        req.refresh_from_db()
        assert req.status == "approved"
        assert OrgAdmin.objects.get(org=tree.branch).person == cadre

        # --- the old admin's next page no longer acts for the branch ----------------------------------------
        response = old.goto(f"{base}/inbox/")
        assert response.status == 403
        assert old.get_by_test_id("acting-org").count() == 0
        shot(old, "04-old-admin-out")

        # --- the audit trail of the general branch shows the change ------------------------------------------
        sup.goto(f"{base}/audit/")
        cells = sup.locator("tr[data-testid=audit-entry] [data-testid=action]")
        actions = [cells.nth(i).get_attribute("data-action") for i in range(cells.count())]
        assert "org.admin_changed" in actions and "request.approved.admin_change" in actions
        shot(sup, "05-audit")
    finally:
        old_ctx.close()
        sup_ctx.close()
