"""`make screenshots`: the main pages of each role at 1366 and 375 px, written as PNG files for review.

Skipped unless ZHTJ_SCREENSHOTS names the folder to write to (the Makefile sets it), so the suite stays fast.
"""

import os
import re
from pathlib import Path

import pytest
from django.utils import timezone

from approvals.services import request_reject
from members.services import personal_info_request
from orgs.permissions import Actor
from tests.e2e.helpers import PASSWORD, log_in
from transfers import services as transfers

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 740}}


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_screenshots_of_each_roles_main_pages(browser, live_server, e2e_settings, captcha_test_mode, org_types,
                                               tree):
    folder = os.environ.get("ZHTJ_SCREENSHOTS")
    if not folder:
        pytest.skip("set ZHTJ_SCREENSHOTS (make screenshots) to write the screenshots")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    person = tree.member.person
    person.set_password(PASSWORD)
    person.password_set_at = timezone.now()
    person.save()
    req = personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900001111"})
    request_reject(request_id=req.pk, actor=Actor(person=tree.branch_admin, org=tree.branch), reason="号码有误")
    transfers.transfer_out_submit(actor=Actor(person=tree.branch_admin, org=tree.branch), member_id=tree.member.pk,
                                  target_org_id=tree.wc.pk, reason="工作调动")
    roles = {
        "anonymous": (None, ["/login/", "/register/admin/"]),
        "member": (person, ["/", "/messages/", "/me/", "/my/requests/"]),
        "branch-admin": (tree.branch_admin, [f"/orgs/{tree.branch.pk}/", f"/orgs/{tree.branch.pk}/members/",
                                             "/messages/", "/transfers/"]),
        "general-branch-admin": (tree.gb_admin, [f"/orgs/{tree.gb.pk}/", f"/orgs/{tree.gb.pk}/people/add/",
                                                 f"/orgs/{tree.gb.pk}/codes/", "/audit/"]),
        "work-committee-admin": (tree.wc_admin, [f"/orgs/{tree.wc.pk}/", "/inbox/"]),
        "root-admin": (tree.root_admin, [f"/orgs/{tree.root.pk}/", f"/orgs/{tree.root.pk}/edit/", "/orgs/"]),
    }
    written = 0
    for size, viewport in SIZES.items():
        for role, (who, urls) in roles.items():
            context = browser.new_context(locale="zh-CN", viewport=viewport)
            page = context.new_page()
            try:
                if who is not None:
                    log_in(page, live_server.url, who.id_number)
                for url in urls:
                    page.goto(live_server.url + url)
                    slug = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
                    page.screenshot(path=str(out / f"{role}-{size}-{slug}.png"), full_page=True)
                    written += 1
            finally:
                context.close()
    assert written == sum(len(urls) for _, urls in roles.values()) * len(SIZES)
