"""Messages (消息): each event writes exactly the right message to the right addressee, nobody else reads
it, the header counts unread ones in one query, and the message centre lists, opens and marks them."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from approvals.kinds import ApprovalError
from approvals.services import request_approve, request_reject, request_submit, requests_expire
from members import accounts
from members.services import personal_info_request
from notifications import selectors
from notifications.context_processors import unread
from notifications.models import Message, MessageKind
from notifications.services import message_mark_read, messages_mark_all_read, notify
from orgs import codes
from orgs.admin_registration import admin_register
from orgs.permissions import Actor
from transfers import services as transfers

from . import factories as f
from .conftest import login_as
from .import_helpers import media, member_row, run_import, xlsx  # noqa: F401  (media is a fixture)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def act(person, org=None) -> Actor:
    return Actor(person=person, org=org, ip="10.0.0.1")


def to_org(org) -> list[Message]:
    return list(Message.objects.filter(org=org))


def to_person(person) -> list[Message]:
    return list(Message.objects.filter(recipient=person))


def addressees() -> set:
    return {(m.org_id, m.recipient_id, m.kind) for m in Message.objects.all()}


def rename(tree):
    return request_submit(
        kind="org_info", target=tree.branch, changes={"short_name": [tree.branch.short_name, "新名称"]},
        actor=act(tree.branch_admin, tree.branch), deciding_org=tree.gb, reason="更名",
    )


# --- the model and notify() --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_notify_needs_exactly_one_addressee(tree):
    with pytest.raises(ValueError):
        notify(kind=MessageKind.TRANSFER, text="x")
    with pytest.raises(ValueError):
        notify(recipient=tree.member.person, org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_database_refuses_a_message_with_two_addressees(tree):
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(recipient=tree.member.person, org=tree.branch, kind=MessageKind.TRANSFER, text="x")


@pytest.mark.django_db
def test_notify_refuses_an_unknown_kind(tree):
    with pytest.raises(ValueError):
        notify(org=tree.branch, kind="spam", text="x")


@pytest.mark.django_db
def test_message_text_is_translated_when_read(tree):
    m = notify(org=tree.gb, kind=MessageKind.TRANSFER,
               text="Your transfer from %(source)s to %(target)s was withdrawn.",
               params={"source": "一班团支部", "target": "二班团支部"})
    assert m.rendered == "Your transfer from 一班团支部 to 二班团支部 was withdrawn."
    with translation.override("zh-hans"):
        assert m.rendered == "您从一班团支部转至二班团支部的组织关系转接已被撤回。"


# --- approvals: waiting, approved, rejected ----------------------------------------------------------------

@pytest.mark.django_db
def test_submitted_request_tells_the_deciding_org_only(tree):
    req = rename(tree)
    (m,) = Message.objects.all()
    assert m.org == tree.gb and m.recipient is None and m.kind == MessageKind.REQUEST_WAITING
    assert m.link == reverse("request_detail", args=[req.pk])
    assert "新名称" not in m.rendered and "一班团支部" in m.rendered


@pytest.mark.django_db
def test_approval_tells_the_requesting_org(tree):
    req = rename(tree)
    request_approve(request_id=req.pk, actor=act(tree.gb_admin, tree.gb))
    (m,) = to_org(tree.branch)
    assert m.kind == MessageKind.REQUEST_DECIDED and "approved by 学院团总支" in m.rendered
    assert addressees() == {(tree.gb.pk, None, "request_waiting"), (tree.branch.pk, None, "request_decided")}


@pytest.mark.django_db
def test_rejection_tells_the_requesting_org_with_the_reason(tree):
    req = rename(tree)
    request_reject(request_id=req.pk, actor=act(tree.gb_admin, tree.gb), reason="名称不规范")
    (m,) = to_org(tree.branch)
    assert "rejected by 学院团总支" in m.rendered and "Reason: 名称不规范" in m.rendered


@pytest.mark.django_db
def test_a_members_own_request_is_decided_in_a_personal_message(tree):
    person = tree.member.person
    person.set_password("Str0ng-pass!")
    person.save()
    req = personal_info_request(actor=act(person), member=tree.member, changes={"phone": "13900001111"})
    assert [m.org for m in Message.objects.all()] == [tree.branch]
    request_reject(request_id=req.pk, actor=act(tree.branch_admin, tree.branch), reason="号码有误")
    (m,) = to_person(person)
    assert m.kind == MessageKind.REQUEST_DECIDED and "号码有误" in m.rendered
    assert not Message.objects.filter(org__in=[tree.gb, tree.wc, tree.root, tree.sibling]).exists()


@pytest.mark.django_db
def test_expiry_tells_the_requester(tree, settings):
    req = rename(tree)
    requests_expire(now=timezone.now() + dt.timedelta(days=settings.ZHTJ_REQUEST_EXPIRY_DAYS + 1))
    (m,) = to_org(tree.branch)
    assert "expired" in m.rendered and m.link == reverse("request_detail", args=[req.pk])


@pytest.mark.django_db
def test_a_refused_decision_leaves_no_message(tree):
    req = rename(tree)
    with pytest.raises(ApprovalError):
        request_approve(request_id=req.pk, actor=act(tree.sibling_admin, tree.sibling))
    assert to_org(tree.branch) == [] and to_org(tree.sibling) == []


# --- transfers ---------------------------------------------------------------------------------------------

def out(tree, target):
    return transfers.transfer_out_submit(
        actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk, target_org_id=target.pk,
        reason="工作调动",
    )


@pytest.mark.django_db
def test_transfer_submission_tells_the_deciding_branch_and_the_member(tree):
    transfer = out(tree, tree.sibling)
    assert addressees() == {
        (tree.sibling.pk, None, "request_waiting"), (None, tree.member.person_id, "transfer"),
    }
    (m,) = to_person(tree.member.person)
    assert "一班团支部" in m.rendered and "机关团支部" in m.rendered
    assert m.link == reverse("my_record")
    assert transfer.pk


@pytest.mark.django_db
def test_transfer_completion_tells_the_member_and_the_submitting_branch(tree):
    transfer = out(tree, tree.sibling)
    Message.objects.all().delete()
    transfers.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    assert addressees() == {(tree.branch.pk, None, "request_decided"), (None, tree.member.person_id, "transfer")}
    (m,) = to_person(tree.member.person)
    assert "transferred from 一班团支部 to 机关团支部" in m.rendered


@pytest.mark.django_db
def test_approval_to_a_committee_makes_an_allocation_message_for_it(tree):
    transfer = out(tree, tree.wc)
    Message.objects.all().delete()
    transfers.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    (m,) = Message.objects.filter(kind=MessageKind.ALLOCATION_WAITING)
    assert m.org == tree.wc and m.link == reverse("transfer_detail", args=[transfer.pk])
    assert "allocate a branch" in m.rendered
    assert addressees() == {
        (tree.wc.pk, None, "allocation_waiting"), (tree.branch.pk, None, "request_decided"),
        (None, tree.member.person_id, "transfer"),
    }


@pytest.mark.django_db
def test_allocation_tells_the_member_and_the_new_branch(tree):
    transfer = out(tree, tree.wc)
    wc = act(tree.wc_admin, tree.wc)
    transfers.transfer_approve(transfer_id=transfer.pk, actor=wc)
    Message.objects.all().delete()
    transfers.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk)
    assert addressees() == {(tree.sibling.pk, None, "transfer"), (None, tree.member.person_id, "transfer")}
    assert "机关团支部" in to_person(tree.member.person)[0].rendered


@pytest.mark.django_db
def test_transfer_rejection_tells_the_member_the_reason(tree):
    transfer = out(tree, tree.sibling)
    Message.objects.all().delete()
    transfers.transfer_reject(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling), reason="不接收")
    assert addressees() == {(tree.branch.pk, None, "request_decided"), (None, tree.member.person_id, "transfer")}
    assert "不接收" in to_person(tree.member.person)[0].rendered


@pytest.mark.django_db
def test_withdrawal_by_someone_else_tells_the_requester(tree):
    transfer = out(tree, tree.sibling)
    Message.objects.all().delete()
    transfers.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    assert addressees() == {(tree.branch.pk, None, "request_decided"), (None, tree.member.person_id, "transfer")}


@pytest.mark.django_db
def test_withdrawal_by_the_requester_tells_only_the_member(tree):
    transfer = out(tree, tree.sibling)
    Message.objects.all().delete()
    transfers.transfer_withdraw(transfer_id=transfer.pk, actor=act(tree.branch_admin, tree.branch))
    assert addressees() == {(None, tree.member.person_id, "transfer")}


# --- imports, registration codes, passwords ------------------------------------------------------------------

@pytest.mark.django_db
def test_finished_import_tells_the_uploader(tree, media):  # noqa: F811
    job, _ = run_import(tree.branch, xlsx([member_row()]), actor=act(tree.branch_admin, tree.branch))
    assert job.status == "succeeded"
    (m,) = Message.objects.all()
    assert m.recipient == tree.branch_admin and m.kind == MessageKind.IMPORT_FINISHED
    assert m.link == reverse("import_job", args=[job.pk]) and "1 imported" in m.rendered


@pytest.mark.django_db
def test_used_registration_code_tells_the_issuing_org(tree):
    code = codes.code_issue(actor=act(tree.gb_admin, tree.gb), org=tree.branch2)
    number = f.next_id_number()
    admin_register(org=tree.branch2, code=code, name="新管理员", id_number=number, phone="13800138000",
                   password="Kx7#mq-2Lp!a", ip="10.0.0.9")
    (m,) = Message.objects.all()
    assert m.org == tree.gb and m.kind == MessageKind.CODE_USED
    assert "新管理员" in m.rendered and "二班团支部" in m.rendered and number not in m.rendered


@pytest.mark.django_db
def test_reset_code_and_reset_tell_the_person(tree):
    person = tree.member.person
    code = accounts.reset_code_issue(actor=act(tree.branch_admin, tree.branch), person=person)
    (m,) = to_person(person)
    assert m.kind == MessageKind.PASSWORD and "一班团支部" in m.rendered
    accounts.reset_password_with_code(id_number=person.id_number, code=code, new_password="N3w-pass-word!")
    assert len(to_person(person)) == 2 and Message.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_reset_code_leaves_no_message(tree):
    with pytest.raises(PermissionDenied):
        accounts.reset_code_issue(actor=act(tree.sibling_admin, tree.sibling), person=tree.member.person)
    assert Message.objects.count() == 0


# --- who reads what ------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_org_messages_show_only_to_whoever_acts_for_that_org(tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    assert list(selectors.messages_for(act(tree.branch_admin, tree.branch))) == [m]
    for person, org in ((tree.gb_admin, tree.gb), (tree.branch2_admin, tree.branch2), (tree.branch_admin, None),
                        (tree.member.person, None), (tree.outsider, tree.other_root)):
        assert list(selectors.messages_for(act(person, org))) == []


@pytest.mark.django_db
def test_an_admin_change_hands_the_orgs_messages_to_the_new_admin(tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    new_admin = f.make_admin(tree.branch)
    assert list(selectors.messages_for(act(new_admin, tree.branch))) == [m]


@pytest.mark.django_db
def test_personal_messages_follow_the_person_whatever_org_they_act_for(tree):
    m = notify(recipient=tree.gb_admin, kind=MessageKind.PASSWORD, text="x")
    assert list(selectors.messages_for(act(tree.gb_admin, tree.gb))) == [m]
    assert list(selectors.messages_for(act(tree.gb_admin))) == [m]
    assert list(selectors.messages_for(act(tree.branch_admin, tree.branch))) == []


@pytest.mark.django_db
def test_nobody_marks_another_orgs_message_read(tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    assert message_mark_read(actor=act(tree.gb_admin, tree.gb), message_id=m.pk) is None
    assert messages_mark_all_read(actor=act(tree.branch2_admin, tree.branch2)) == 0
    m.refresh_from_db()
    assert m.read_at is None


@pytest.mark.django_db
def test_unread_count_is_one_query(tree, django_assert_num_queries):
    notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    notify(recipient=tree.branch_admin, kind=MessageKind.PASSWORD, text="y")
    notify(org=tree.branch2, kind=MessageKind.TRANSFER, text="z")
    request = RequestFactory().get("/")
    request.actor = act(tree.branch_admin, tree.branch)
    context = unread(request)
    with django_assert_num_queries(1):
        assert context["unread_messages"]() == 2
        assert context["unread_messages"]() == 2


# --- the pages ---------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_message_centre_lists_newest_first_with_the_unread_count(client, tree):
    person = f.make_member(tree.branch2, person=f.make_person()).person
    old = notify(recipient=person, kind=MessageKind.TRANSFER, text="old one")
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=1))
    notify(recipient=person, kind=MessageKind.TRANSFER, text="new one")
    notify(org=tree.branch2, kind=MessageKind.TRANSFER, text="for the admin")
    login_as(client, person)
    page = client.get(reverse("message_list")).content.decode()
    assert page.index("new one") < page.index("old one") and "for the admin" not in page
    assert 'data-testid="unread-count">2<' in page


@pytest.mark.django_db
def test_header_on_other_pages_shows_the_unread_count(client, tree):
    notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    login_as(client, tree.branch_admin, tree.branch)
    page = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert 'data-testid="unread-count">1<' in page


@pytest.mark.django_db
def test_opening_a_message_marks_it_read_and_follows_its_link(client, tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x", link=reverse("transfer_list"))
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("message_read", args=[m.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == reverse("transfer_list")
    m.refresh_from_db()
    assert m.read_at is not None and m.read_by == tree.branch_admin


@pytest.mark.django_db
def test_mark_read_is_post_only(client, tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    login_as(client, tree.branch_admin, tree.branch)
    assert client.get(reverse("message_read", args=[m.pk])).status_code == 405
    m.refresh_from_db()
    assert m.read_at is None


@pytest.mark.django_db
def test_another_orgs_message_answers_404_and_stays_unread(client, tree):
    m = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    login_as(client, tree.branch2_admin, tree.branch2)
    assert client.post(reverse("message_read", args=[m.pk])).status_code == 404
    m.refresh_from_db()
    assert m.read_at is None


@pytest.mark.django_db
def test_mark_all_read_marks_only_the_actors_messages(client, tree):
    mine = notify(org=tree.branch, kind=MessageKind.TRANSFER, text="x")
    own = notify(recipient=tree.branch_admin, kind=MessageKind.PASSWORD, text="y")
    theirs = notify(org=tree.branch2, kind=MessageKind.TRANSFER, text="z")
    login_as(client, tree.branch_admin, tree.branch)
    assert client.post(reverse("message_read_all")).status_code == 302
    assert Message.objects.get(pk=mine.pk).read_at and Message.objects.get(pk=own.pk).read_at
    assert Message.objects.get(pk=theirs.pk).read_at is None


@pytest.mark.django_db
def test_message_centre_needs_login(client):
    response = client.get(reverse("message_list"))
    assert response.status_code == 302 and reverse("login") in response["Location"]
