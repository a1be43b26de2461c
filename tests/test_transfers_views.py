"""Transfer pages: the permission matrix of every view, the forms' happy paths and refusals, list queries."""

import json

import pytest
from django.urls import reverse

from members.models import Member
from orgs.permissions import Actor
from transfers import selectors, services
from transfers.models import Status, Transfer

from . import factories as f
from .conftest import login_as

# Scenario: a transfer out of `branch` (under gb) to `sibling` (under wc). Who is who for it:
#   source admin: branch_admin; source's direct superior: gb_admin; target admin: sibling_admin;
#   target's direct superior: wc_admin (also an ancestor of the source); higher ancestor: root_admin;
#   a sibling not involved: branch2_admin; other tree: outsider; a plain member; anonymous.
ROLES = {
    "source_admin": ("branch_admin", "branch"),
    "source_superior": ("gb_admin", "gb"),
    "target_admin": ("sibling_admin", "sibling"),
    "target_superior": ("wc_admin", "wc"),
    "higher_ancestor": ("root_admin", "root"),
    "sibling": ("branch2_admin", "branch2"),
    "other_tree": ("outsider", "other_root"),
}


@pytest.fixture(autouse=True)
def _english(english):
    # Messages are asserted in their English source form, whatever the catalog holds.
    yield


def act(person, org) -> Actor:
    return Actor(person=person, org=org)


def login_role(client, tree, role):
    if role == "anonymous":
        return client
    if role == "member":
        member = f.make_member(tree.branch, person=f.make_person())
        return login_as(client, member.person)
    person, org = ROLES[role]
    return login_as(client, getattr(tree, person), getattr(tree, org))


def state() -> tuple:
    return (
        list(Member.objects.order_by("pk").values_list("pk", "branch_id")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status", "allocated_branch_id", "decision_note")),
    )


def assert_nothing_written(tree) -> None:
    """A refused submission leaves no transfer, no approval request, no audit entry, and the member put."""
    from approvals.models import ApprovalRequest
    from audit.models import AuditEntry

    assert not Transfer.objects.exists()
    assert not ApprovalRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="transfer.").exists()
    assert Member.objects.get(pk=tree.member.pk).branch_id == tree.branch.pk


def submit_out(tree, target) -> Transfer:
    return services.transfer_out_submit(
        actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk, target_org_id=target.pk,
        reason="就业",
    )


def expect(response, outcome: str) -> None:
    if outcome == "login":
        assert response.status_code == 302 and "/login/" in response["Location"]
    elif outcome == "ok":
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert "/login/" not in response["Location"]
    else:
        assert response.status_code == int(outcome), response.status_code


ALL_ROLES = ["anonymous", "member", *ROLES]


# --- the permission matrix --------------------------------------------------------------------------------

DETAIL = {"anonymous": "login", "member": "404", "source_admin": "ok", "source_superior": "ok",
          "target_admin": "ok", "target_superior": "ok", "higher_ancestor": "ok", "sibling": "404",
          "other_tree": "404"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
def test_detail_matrix(client, tree, role):
    transfer = submit_out(tree, tree.sibling)
    expect(login_role(client, tree, role).get(reverse("transfer_detail", args=[transfer.pk])), DETAIL[role])


DECIDE = {"anonymous": "login", "member": "404", "source_admin": "403", "source_superior": "403",
          "target_admin": "ok", "target_superior": "ok", "higher_ancestor": "403", "sibling": "404",
          "other_tree": "404"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("action", ["transfer_approve", "transfer_reject"])
def test_decision_matrix(client, tree, role, action):
    transfer = submit_out(tree, tree.sibling)
    client = login_role(client, tree, role)
    before = state()
    response = client.post(reverse(action, args=[transfer.pk]), {"reason": "不符合"})
    expect(response, DECIDE[role])
    if DECIDE[role] == "ok":
        assert Transfer.objects.get(pk=transfer.pk).status == (
            Status.COMPLETED if action == "transfer_approve" else Status.REJECTED
        )
    else:
        assert state() == before


# The submitting side withdraws; the deciding side rejects (issue 12).
WITHDRAW = {"anonymous": "login", "member": "404", "source_admin": "ok", "source_superior": "ok",
            "target_admin": "403", "target_superior": "403", "higher_ancestor": "403", "sibling": "404",
            "other_tree": "404"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
def test_withdraw_matrix(client, tree, role):
    transfer = submit_out(tree, tree.sibling)
    client = login_role(client, tree, role)
    before = state()
    expect(client.post(reverse("transfer_withdraw", args=[transfer.pk])), WITHDRAW[role])
    if WITHDRAW[role] == "ok":
        assert Transfer.objects.get(pk=transfer.pk).status == Status.WITHDRAWN
    else:
        assert state() == before


# Allocation scenario: a transfer out of `branch` to the work committee `wc`, approved by wc_admin.
ALLOCATE = {"anonymous": "login", "member": "404", "source_admin": "403", "source_superior": "403",
            "target_admin": "ok", "higher_ancestor": "403", "sibling": "404", "other_tree": "404"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(ALLOCATE))
def test_allocate_matrix(client, tree, role):
    transfer = submit_out(tree, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    roles = {**ROLES, "target_admin": ("wc_admin", "wc")}
    if role in roles:
        person, org = roles[role]
        login_as(client, getattr(tree, person), getattr(tree, org))
    else:
        login_role(client, tree, role)
    before = state()
    response = client.post(reverse("transfer_allocate", args=[transfer.pk]), {"branch": tree.sibling.pk})
    expect(response, ALLOCATE[role])
    if ALLOCATE[role] == "ok":
        assert Member.objects.get(pk=tree.member.pk).branch_id == tree.sibling.pk
    else:
        assert state() == before


ADMIN_PAGE = {"anonymous": "login", "member": "403"}


@pytest.mark.django_db
@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("name", ["transfer_list", "transfer_in", "transfer_out", "transfer_org_search"])
def test_admin_pages_matrix(client, tree, role, name):
    response = login_role(client, tree, role).get(reverse(name))
    expect(response, ADMIN_PAGE.get(role, "ok"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["anonymous", "member"])
@pytest.mark.parametrize("name", ["transfer_in", "transfer_out"])
def test_outsiders_cannot_submit(client, tree, role, name):
    data = {"member": tree.member.pk, "target_org": tree.sibling.pk, "target_branch": tree.branch2.pk,
            "name": tree.member.person.name, "id_number": tree.member.person.id_number, "reason": "升学"}
    response = login_role(client, tree, role).post(reverse(name), data)
    expect(response, ADMIN_PAGE[role])
    assert not Transfer.objects.exists()


# --- pages at work ----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_transfer_out_form_submits_and_shows_progress(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    page = client.get(reverse("transfer_out"))
    assert tree.member.person.masked_id_number in page.content.decode()
    assert tree.member.person.id_number not in page.content.decode()
    response = client.post(reverse("transfer_out"), {
        "member": tree.member.pk, "target_org": tree.sibling.pk, "reason": "就业"})
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("transfer_detail", args=[transfer.pk])
    detail = client.get(response["Location"]).content.decode()
    assert "机关团支部" in detail and "Waiting for a decision by" in detail


@pytest.mark.django_db
def test_transfer_out_to_missing_org_shows_clear_error(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("transfer_out"), {"member": tree.member.pk, "target_org": 999999, "reason": "就业"})
    assert response.status_code == 200
    assert "That organization does not exist." in response.content.decode()
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_transfer_out_to_current_branch_shows_clear_error(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("transfer_out"), {"member": tree.member.pk, "target_org": tree.branch.pk,
                                                     "reason": "就业"})
    assert "already belongs to 一班团支部" in response.content.decode()
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_transfer_out_of_member_outside_subtree_refused(client, tree):
    login_as(client, tree.sibling_admin, tree.sibling)
    response = client.post(reverse("transfer_out"), {"member": tree.member.pk, "target_org": tree.branch2.pk,
                                                     "reason": "就业"})
    assert response.status_code == 200
    assert response.context["form"].errors["member"] == [
        "You can only transfer out members of branches you administer."]
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_transfer_in_form_submits(client, tree):
    login_as(client, tree.branch2_admin, tree.branch2)
    person = tree.member.person
    response = client.post(reverse("transfer_in"), {
        "target_branch": tree.branch2.pk, "name": person.name, "id_number": person.id_number, "reason": "升学"})
    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert transfer.direction == "in" and transfer.request.deciding_org == tree.branch


@pytest.mark.django_db
def test_transfer_in_not_found_reveals_nothing(client, tree):
    login_as(client, tree.branch2_admin, tree.branch2)
    person = tree.member.person
    bodies = []
    for name, number in ((person.name, f.next_id_number()), ("无此人", person.id_number)):
        response = client.post(reverse("transfer_in"), {
            "target_branch": tree.branch2.pk, "name": name, "id_number": number, "reason": "升学"})
        body = response.content.decode()
        assert "No member matches this name and ID number." in body
        assert "一班团支部" not in body  # nothing about where the real person is
        bodies.append(response.context["form"].non_field_errors())
    assert bodies[0] == bodies[1]
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_transfer_in_to_branch_outside_subtree_refused(client, tree):
    login_as(client, tree.sibling_admin, tree.sibling)
    person = tree.member.person
    response = client.post(reverse("transfer_in"), {
        "target_branch": tree.branch2.pk, "name": person.name, "id_number": person.id_number, "reason": "升学"})
    assert response.context["form"].errors["target_branch"] == [
        "You can only transfer members into a branch you administer."]
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_other_reason_without_text_refused_by_form(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    response = client.post(reverse("transfer_out"), {"member": tree.member.pk, "target_org": tree.sibling.pk,
                                                     "reason": "其他"})
    assert "reason_text" in response.context["form"].errors
    assert_nothing_written(tree)


@pytest.mark.django_db
def test_reject_without_reason_refused_and_nothing_changes(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.sibling_admin, tree.sibling)
    before = state()
    response = client.post(reverse("transfer_reject", args=[transfer.pk]), {"reason": " "}, follow=True)
    assert "Give a reason for the rejection." in response.content.decode()
    assert state() == before


@pytest.mark.django_db
def test_reject_with_reason_shows_it_to_the_source(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.sibling_admin, tree.sibling)
    client.post(reverse("transfer_reject", args=[transfer.pk]), {"reason": "编制已满"})
    login_as(client, tree.branch_admin, tree.branch)
    body = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert "编制已满" in body and "Rejected" in body
    assert "Reason for the rejection" in body  # labelled as such, not as a neutral note


@pytest.mark.django_db
@pytest.mark.parametrize("branch", ["outside", "garbage", "non_branch", "current"])
def test_tampered_allocation_refused_with_message(client, tree, branch):
    other_branch = f.make_org("branch", parent=tree.other_root)
    transfer = submit_out(tree, tree.gb)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    login_as(client, tree.gb_admin, tree.gb)
    before = state()
    value = {"outside": other_branch.pk, "garbage": "x", "non_branch": tree.gb.pk, "current": tree.branch.pk}[branch]
    response = client.post(reverse("transfer_allocate", args=[transfer.pk]), {"branch": value}, follow=True)
    expected = "already belongs to 一班团支部" if branch == "current" else "Choose a branch within 学院团总支."
    assert expected in response.content.decode()
    assert state() == before


@pytest.mark.django_db
def test_allocation_form_offers_only_subtree_branches(client, tree):
    f.make_org("branch", parent=tree.other_root, short_name="外市支部")
    transfer = submit_out(tree, tree.gb)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.gb_admin, tree.gb))
    login_as(client, tree.gb_admin, tree.gb)
    response = client.get(reverse("transfer_detail", args=[transfer.pk]))
    choices = {org.pk for org in response.context["allocate_form"].fields["branch"].queryset}
    assert choices == {tree.branch2.pk}  # gb's branches, less the one the member is already in


@pytest.mark.django_db
def test_approve_twice_says_already_decided(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.sibling_admin, tree.sibling)
    client.post(reverse("transfer_approve", args=[transfer.pk]))
    response = client.post(reverse("transfer_approve", args=[transfer.pk]), follow=True)
    assert "already been" in response.content.decode()
    assert Member.objects.get(pk=tree.member.pk).branch_id == tree.sibling.pk


@pytest.mark.django_db
def test_org_search_returns_org_facts_only(client, tree):
    f.make_org("branch", parent=tree.other_root, short_name="外市二支部", code="X0002")
    login_as(client, tree.branch_admin, tree.branch)
    data = json.loads(client.get(reverse("transfer_org_search"), {"q": "外市"}).content)
    assert {r["code"] for r in data["results"]} == {"R0002", "X0002"}
    for r in data["results"]:
        assert set(r) == {"id", "code", "name", "full_name", "type", "is_branch", "path"}


@pytest.mark.django_db
def test_org_search_does_not_find_people(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    data = json.loads(client.get(reverse("transfer_org_search"), {"q": tree.member.person.name}).content)
    assert data["results"] == []


@pytest.mark.django_db
def test_lists_split_incoming_and_outgoing(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.branch_admin, tree.branch)
    assert [t.pk for t in client.get(reverse("transfer_list"), {"tab": "outgoing"}).context["page"]] == [transfer.pk]
    assert list(client.get(reverse("transfer_list"), {"tab": "incoming"}).context["page"]) == []
    login_as(client, tree.sibling_admin, tree.sibling)
    assert [t.pk for t in client.get(reverse("transfer_list"), {"tab": "incoming"}).context["page"]] == [transfer.pk]
    login_as(client, tree.branch2_admin, tree.branch2)
    for tab in ("incoming", "outgoing", "allocation"):
        assert list(client.get(reverse("transfer_list"), {"tab": tab}).context["page"]) == []


@pytest.mark.django_db
def test_list_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    for _ in range(30):
        member = f.make_member(tree.branch)
        services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=member.pk,
                                     target_org_id=tree.sibling.pk, reason="就业")
    login_as(client, tree.branch_admin, tree.branch)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("transfer_list"), {"tab": "outgoing"})
    assert len(response.context["page"].object_list) == 30


@pytest.mark.django_db
def test_history_include_renders_member_transfers(tree, rf):
    from django.template.loader import render_to_string

    transfer = submit_out(tree, tree.sibling)
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.sibling_admin, tree.sibling))
    history = selectors.member_transfer_history(tree.member)
    html = render_to_string("transfers/_history.html", {"transfer_history": history,
                                                        "actor": act(tree.wc_admin, tree.wc)})
    assert "一班团支部" in html and "机关团支部" in html and html.count('data-testid="history-row"') == 1


@pytest.mark.django_db
def test_transfer_out_form_offers_a_bounded_member_list_with_name_search(client, tree, monkeypatch,
                                                                        django_assert_max_num_queries):
    from transfers import views

    monkeypatch.setattr(views, "MEMBER_CHOICES", 2)
    members = [f.make_member(tree.branch, person=f.make_person(name=f"张{i}号")) for i in range(4)]
    login_as(client, tree.branch_admin, tree.branch)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("transfer_out"))
    assert len(response.context["form"].fields["member"].queryset) == 2
    assert response.context["truncated"] and response.context["total"] == 5
    found = client.get(reverse("transfer_out"), {"q": "张3"})
    assert [m.pk for m in found.context["form"].fields["member"].queryset] == [members[3].pk]
    # A member not among those shown may still be posted: validation covers the whole subtree.
    response = client.post(reverse("transfer_out"), {"member": members[3].pk, "target_org": tree.sibling.pk,
                                                     "reason": "就业"})
    assert response.status_code == 302
    assert Transfer.objects.get().member_id == members[3].pk


@pytest.mark.django_db
def test_receiving_admin_sees_reject_but_not_withdraw(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.sibling_admin, tree.sibling)
    page = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert 'data-testid="withdraw"' not in page and reverse("transfer_reject", args=[transfer.pk]) in page


@pytest.mark.django_db
def test_submitting_admin_sees_withdraw(client, tree):
    transfer = submit_out(tree, tree.sibling)
    login_as(client, tree.branch_admin, tree.branch)
    page = client.get(reverse("transfer_detail", args=[transfer.pk])).content.decode()
    assert 'data-testid="withdraw"' in page


@pytest.mark.django_db
def test_transfer_out_list_leaves_out_members_already_in_a_transfer(client, tree):
    moving = submit_out(tree, tree.sibling).member
    staying = f.make_member(tree.branch, person=f.make_person(name="留下的人"))
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("transfer_out"))
    offered = list(response.context["form"].fields["member"].queryset)
    assert staying in offered and moving not in offered
    # Named in the URL (a link from the member's page), still not offered.
    response = client.get(reverse("transfer_out") + f"?member={moving.pk}")
    assert moving not in list(response.context["form"].fields["member"].queryset)
