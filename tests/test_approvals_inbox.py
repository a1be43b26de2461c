"""The inbox, the request page, the requester's own requests and the header badge: who sees what, deciding
one or several requests at once, and bounded queries."""

import pytest
from django.urls import reverse

from approvals.models import ApprovalRequest, RequestStatus
from approvals.services import request_submit
from orgs.models import Org
from orgs.permissions import Actor

from .conftest import login_as


def submit_rename(tree, org=None, new="新名称", by=None, acting=None):
    org = org or tree.branch
    org.refresh_from_db()
    by = by or tree.branch_admin
    return request_submit(
        kind="org_info", target=org, changes={"short_name": [org.short_name, new]},
        actor=Actor(person=by, org=acting or tree.branch), deciding_org=org.parent, reason="更名",
    )


# --- inbox ------------------------------------------------------------------------------------------------


def test_inbox_lists_pending_requests_for_the_acting_org_newest_first(client, tree):
    older = submit_rename(tree)
    newer = submit_rename(tree, org=tree.branch2, new="二班新名", by=tree.branch2_admin, acting=tree.branch2)
    elsewhere = submit_rename(tree, org=tree.sibling, by=tree.sibling_admin, acting=tree.sibling)  # wc decides
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("inbox"))
    assert response.status_code == 200
    rows = [r.request.pk for r in response.context["rows"]]
    assert rows == [newer.pk, older.pk]
    assert elsewhere.pk not in rows
    body = response.content.decode()
    assert "一班团支部" in body and "新名称" in body and tree.branch_admin.name in body
    assert response.context["inbox_count"]() == 2


def test_header_badge_shows_pending_count(client, tree):
    submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("inbox"))
    assert 'data-testid="inbox-count">1<' in response.content.decode()


def test_header_badge_costs_one_query(rf, tree):
    from approvals.context_processors import inbox

    submit_rename(tree)
    request = rf.get("/")
    request.actor = Actor(person=tree.gb_admin, org=tree.gb)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        count = inbox(request)["inbox_count"]
        assert count() == 1
        assert count() == 1  # memoized
    assert len(ctx.captured_queries) == 1


def test_inbox_marks_stale_requests(client, tree):
    req = submit_rename(tree)
    Org.objects.filter(pk=tree.branch.pk).update(short_name="被别人改了")
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("inbox"))
    (row,) = response.context["rows"]
    assert row.request.pk == req.pk and row.stale
    assert 'data-testid="stale"' in response.content.decode()


def test_inbox_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    for i in range(30):
        org = Org.objects.create(code=f"BX{i:03d}", short_name=f"支部{i}", full_name=f"支部{i}",
                                 type=tree.branch.type, parent=tree.gb)
        submit_rename(tree, org=org, new=f"新{i}")
    submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("inbox"))
    assert len(response.context["rows"]) == 31


def test_bulk_approve_from_inbox(client, tree):
    a = submit_rename(tree)
    b = submit_rename(tree, org=tree.branch2, new="二班新名", by=tree.branch2_admin, acting=tree.branch2)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("inbox"), {"requests": [a.pk, b.pk], "decision": "approve", "reason": ""})
    assert response.status_code == 302
    assert set(ApprovalRequest.objects.values_list("status", flat=True)) == {RequestStatus.APPROVED}
    assert Org.objects.get(pk=tree.branch2.pk).short_name == "二班新名"


def test_bulk_reject_needs_reason_and_changes_nothing(client, tree):
    a = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("inbox"), {"requests": [a.pk], "decision": "reject", "reason": ""}, follow=True)
    assert "Give a reason" in response.content.decode() or "理由" in response.content.decode()
    a.refresh_from_db()
    assert a.is_pending


def test_bulk_reject_with_reason_from_inbox(client, tree):
    a = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("inbox"), {"requests": [a.pk], "decision": "reject", "reason": "名称不规范"})
    a.refresh_from_db()
    assert a.status == RequestStatus.REJECTED and a.decision_reason == "名称不规范"


def test_inbox_post_ignores_requests_the_actor_may_not_decide(client, tree):
    mine = submit_rename(tree)
    foreign = submit_rename(tree, org=tree.sibling, by=tree.sibling_admin, acting=tree.sibling)  # wc decides
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("inbox"), {"requests": [mine.pk, foreign.pk], "decision": "approve", "reason": ""})
    mine.refresh_from_db()
    foreign.refresh_from_db()
    assert mine.is_pending and foreign.is_pending  # the whole form is refused: reload and choose again
    assert Org.objects.get(pk=tree.sibling.pk).short_name == "机关团支部"


def test_decided_tab_lists_decided_requests(client, tree):
    a = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("inbox"), {"requests": [a.pk], "decision": "reject", "reason": "否"})
    response = client.get(reverse("inbox") + "?tab=decided")
    assert [r.request.pk for r in response.context["rows"]] == [a.pk]
    assert client.get(reverse("inbox")).context["rows"] == []


def test_inbox_refuses_anonymous_and_members(client, tree):
    response = client.get(reverse("inbox"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
    login_as(client, tree.member.person)
    tree.member.person.password_set_at = tree.member.person.created_at
    tree.member.person.save(update_fields=["password_set_at"])
    assert client.get(reverse("inbox")).status_code == 403


@pytest.mark.parametrize("who", ["wc_admin", "root_admin", "branch_admin", "branch2_admin", "sibling_admin",
                                 "outsider"])
def test_other_admins_see_nothing_and_cannot_decide_from_inbox(client, tree, who):
    req = submit_rename(tree)
    org = {"wc_admin": tree.wc, "root_admin": tree.root, "branch_admin": tree.branch, "branch2_admin": tree.branch2,
           "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    login_as(client, getattr(tree, who), org)
    response = client.get(reverse("inbox"))
    assert response.status_code == 200 and response.context["rows"] == []
    client.post(reverse("inbox"), {"requests": [req.pk], "decision": "approve", "reason": ""})
    req.refresh_from_db()
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"


# --- request detail and single decision ------------------------------------------------------------------


def test_request_detail_shows_change_to_decider(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("request_detail", args=[req.pk]))
    assert response.status_code == 200
    assert response.context["row"].may_decide
    assert 'data-testid="approve"' in response.content.decode()


def test_decide_from_detail_page_approves(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("request_decide", args=[req.pk]), {"decision": "approve", "reason": "同意"})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED
    assert Org.objects.get(pk=tree.branch.pk).short_name == "新名称"


def test_decide_from_detail_page_reject_requires_reason(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("request_decide", args=[req.pk]), {"decision": "reject", "reason": " "})
    assert response.status_code == 400
    req.refresh_from_db()
    assert req.is_pending


def test_stale_request_approval_from_detail_page_shows_message(client, tree):
    req = submit_rename(tree)
    Org.objects.filter(pk=tree.branch.pk).update(short_name="被别人改了")
    login_as(client, tree.gb_admin, tree.gb)
    response = client.post(reverse("request_decide", args=[req.pk]), {"decision": "approve", "reason": ""},
                           follow=True)
    assert any(m.level_tag == "error" for m in response.context["messages"])
    req.refresh_from_db()
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "被别人改了"


@pytest.mark.parametrize("who,status", [
    ("sibling_admin", 404), ("branch2_admin", 404), ("outsider", 404), ("member", 404),
    ("wc_admin", 200), ("root_admin", 200),  # above the deciding org: may read, not decide
])
def test_request_detail_visibility(client, tree, who, status):
    req = submit_rename(tree)
    if who == "member":
        login_as(client, tree.member.person)
        tree.member.person.password_set_at = tree.member.person.created_at
        tree.member.person.save(update_fields=["password_set_at"])
    else:
        org = {"wc_admin": tree.wc, "root_admin": tree.root, "branch2_admin": tree.branch2,
               "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
        login_as(client, getattr(tree, who), org)
    assert client.get(reverse("request_detail", args=[req.pk])).status_code == status
    expected = 403 if status == 200 else 404
    response = client.post(reverse("request_decide", args=[req.pk]), {"decision": "approve", "reason": ""})
    assert response.status_code == expected
    req.refresh_from_db()
    assert req.is_pending and Org.objects.get(pk=tree.branch.pk).short_name == "一班团支部"


def test_request_pages_require_login(client, tree):
    req = submit_rename(tree)
    for url in (reverse("request_detail", args=[req.pk]), reverse("my_requests")):
        response = client.get(url)
        assert response.status_code == 302 and reverse("login") in response["Location"]
    for url in (reverse("request_decide", args=[req.pk]), reverse("request_withdraw", args=[req.pk])):
        response = client.post(url, {"decision": "approve"})
        assert response.status_code == 302 and reverse("login") in response["Location"]
    req.refresh_from_db()
    assert req.is_pending


# --- the requester's own requests --------------------------------------------------------------------------


def test_requester_sees_outcome_and_reason_in_my_requests(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("request_decide", args=[req.pk]), {"decision": "reject", "reason": "名称不规范"})
    client.logout()
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("my_requests"))
    body = response.content.decode()
    assert [r.request.pk for r in response.context["rows"]] == [req.pk]
    assert "名称不规范" in body and tree.gb_admin.name in body


def test_my_requests_lists_only_own(client, tree):
    submit_rename(tree)
    login_as(client, tree.branch2_admin, tree.branch2)
    assert client.get(reverse("my_requests")).context["rows"] == []


def test_my_requests_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    for i in range(20):
        org = Org.objects.create(code=f"BY{i:03d}", short_name=f"支部{i}", full_name=f"支部{i}",
                                 type=tree.branch.type, parent=tree.gb)
        submit_rename(tree, org=org, new=f"新{i}")
    login_as(client, tree.branch_admin, tree.branch)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("my_requests"))
    assert len(response.context["rows"]) == 20


def test_requester_withdraws_from_my_requests(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("request_withdraw", args=[req.pk]))
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.WITHDRAWN


def test_decider_cannot_withdraw(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    assert client.post(reverse("request_withdraw", args=[req.pk])).status_code == 403
    req.refresh_from_db()
    assert req.is_pending


def test_stranger_cannot_withdraw(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.sibling_admin, tree.sibling)
    assert client.post(reverse("request_withdraw", args=[req.pk])).status_code == 404
    req.refresh_from_db()
    assert req.is_pending


def test_withdraw_of_decided_request_shows_message(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.gb_admin, tree.gb)
    client.post(reverse("request_decide", args=[req.pk]), {"decision": "approve"})
    client.logout()
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("request_withdraw", args=[req.pk]), follow=True)
    assert any(m.level_tag == "error" for m in response.context["messages"])
    req.refresh_from_db()
    assert req.status == RequestStatus.APPROVED


def test_withdraw_requires_post(client, tree):
    req = submit_rename(tree)
    login_as(client, tree.branch_admin, tree.branch)
    assert client.get(reverse("request_withdraw", args=[req.pk])).status_code == 405


def test_bulk_decision_reports_a_request_someone_else_decided_meanwhile(client, tree):
    from approvals.services import request_reject

    a = submit_rename(tree)
    b = submit_rename(tree, org=tree.branch2, new="二班新名", by=tree.branch2_admin, acting=tree.branch2)
    login_as(client, tree.gb_admin, tree.gb)
    # Another session of the general branch rejects `a` after this page was loaded.
    request_reject(request_id=a.pk, actor=Actor(person=tree.gb_admin, org=tree.gb), reason="否")
    response = client.post(reverse("inbox"), {"requests": [a.pk, b.pk], "decision": "approve", "reason": ""},
                           follow=True)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"]
    assert len(errors) == 1 and f"#{a.pk}" in errors[0]
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == RequestStatus.REJECTED and b.status == RequestStatus.APPROVED


def test_inbox_shows_each_kind_with_its_change_in_words(client, tree):
    from members.admin_change import admin_change
    from members.services import personal_info_request

    from . import factories as f

    rename = submit_rename(tree)
    cadre = f.make_cadre(tree.branch, person=f.make_person(name="王新任")).person
    hand_over = admin_change(actor=Actor(person=tree.branch_admin, org=tree.branch), org=tree.branch,
                             new_admin=cadre, reason="换届")
    phone = personal_info_request(actor=Actor(person=tree.member.person), member=tree.member,
                                  changes={"phone": "13611112222"})
    login_as(client, tree.gb_admin, tree.gb)  # decides the first two; the direct superior of the third
    response = client.get(reverse("inbox"))
    rows = {r.request.pk: r for r in response.context["rows"]}
    assert set(rows) == {rename.pk, hand_over.pk, phone.pk}
    assert all(r.may_decide for r in rows.values())
    assert rows[hand_over.pk].changes[0].new.startswith("王新任")
    # Lists mask personal data (PIPL); the request page shows it whole to whoever decides.
    assert rows[phone.pk].changes[0].new == "136****2222"
    body = response.content.decode()
    assert "王新任" in body and "136****2222" in body and "13611112222" not in body and "新名称" in body
    detail = client.get(reverse("request_detail", args=[phone.pk])).content.decode()
    assert "13611112222" in detail
    # An admin above the deciders may read the request, masked.
    from django.test import Client

    onlooker = login_as(Client(), tree.root_admin, tree.root)
    detail = onlooker.get(reverse("request_detail", args=[phone.pk])).content.decode()
    assert "136****2222" in detail and "13611112222" not in detail
