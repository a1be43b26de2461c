"""Accessibility: axe-core (vendored from the npm registry, tests/e2e/vendor/axe.min.js, MPL-2.0) checks the
main pages of each role at desktop and phone width against WCAG 2 A and AA: labels, contrast, names, landmarks."""

import json
from pathlib import Path

import pytest
from django.utils import timezone

from approvals.services import request_reject
from members.services import personal_info_request
from notifications.services import MessageKind, notify
from orgs.permissions import Actor
from tests.e2e.helpers import PASSWORD, log_in

AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 375, "height": 740}}
RUN = """async () => (await axe.run(document, {runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}))
  .violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}))"""


def violations(page, url: str) -> list:
    page.goto(url)
    page.add_script_tag(content=AXE)
    return page.evaluate(RUN)


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", sorted(SIZES))
def test_main_pages_of_each_role_pass_axe(browser, live_server, e2e_settings, captcha_test_mode, org_types, tree,
                                          size):
    person = tree.member.person
    person.set_password(PASSWORD)
    person.password_set_at = timezone.now()
    person.save()
    req = personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900001111"})
    request_reject(request_id=req.pk, actor=Actor(person=tree.branch_admin, org=tree.branch), reason="号码有误")
    personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900002222"})
    notify(org=tree.gb, kind=MessageKind.TRANSFER, text="A message for the general branch")
    base = live_server.url
    roles = {
        None: ["/login/", "/password/reset/", "/register/admin/"],
        person: ["/", "/messages/", "/me/", "/me/edit/", "/my/requests/", f"/requests/{req.pk}/", "/inbox/"],
        tree.branch_admin: [f"/orgs/{tree.branch.pk}/", "/inbox/", f"/orgs/{tree.branch.pk}/members/",
                            f"/members/{tree.member.pk}/", f"/orgs/{tree.branch.pk}/import/", "/transfers/out/"],
        tree.gb_admin: [f"/orgs/{tree.gb.pk}/", f"/orgs/{tree.gb.pk}/people/add/", "/messages/", "/transfers/",
                        f"/orgs/{tree.gb.pk}/codes/", "/audit/", "/orgs/"],
    }
    found = {}
    for who, urls in roles.items():
        context = browser.new_context(locale="zh-CN", viewport=SIZES[size])
        page = context.new_page()
        try:
            if who is not None:
                log_in(page, base, who.id_number)
            for url in urls:
                result = violations(page, base + url)
                if result:
                    found[f"{getattr(who, 'name', 'anonymous')} {url}"] = result
        finally:
            context.close()
    assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
