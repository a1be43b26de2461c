"""Transfer pages seen by the people the issue names: the member's page shows their transfer history, both
admins see the same progress (who did each step, when), the allocation list names each branch's parent,
and the org search says when it found nothing or cut its list short."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from orgs.permissions import Actor
from transfers import selectors, services

from . import factories as f
from .conftest import login_as


@pytest.fixture(autouse=True)
def _english(settings, client):
    # Page text is asserted in its English source form, whatever the catalog holds.
    settings.LANGUAGE_CODE = "en"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def act(person, org) -> Actor:
    return Actor(person=person, org=org)


def allocated_transfer(tree):
    """A transfer out of `branch` to the work committee `wc`, approved and allocated to `sibling`."""
    transfer = services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk,
                                            target_org_id=tree.wc.pk, reason="工作调动")
    wc = act(tree.wc_admin, tree.wc)
    services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    services.transfer_allocate(transfer_id=transfer.pk, actor=wc, branch_id=tree.sibling.pk)
    transfer.refresh_from_db()
    return transfer


@pytest.mark.django_db
def test_member_page_shows_transfer_history_to_the_admin(client, tree):
    transfer = allocated_transfer(tree)
    login_as(client, tree.sibling_admin, tree.sibling)  # the member's branch now
    body = client.get(reverse("member_detail", args=[tree.member.pk])).content.decode()
    assert 'data-testid="transfer-history"' in body and body.count('data-testid="history-row"') == 1
    assert reverse("transfer_detail", args=[transfer.pk]) in body
    assert "一班团支部" in body and "团工委" in body and "机关团支部" in body


@pytest.mark.django_db
def test_member_sees_own_transfer_history_without_admin_links(client, tree):
    transfer = allocated_transfer(tree)
    person = tree.member.person
    person.password_set_at = timezone.now()  # else the first visit is sent to set a password
    person.save(update_fields=["password_set_at"])
    login_as(client, person)
    body = client.get(reverse("my_record")).content.decode()
    assert body.count('data-testid="history-row"') == 1
    assert reverse("transfer_detail", args=[transfer.pk]) not in body


@pytest.mark.django_db
@pytest.mark.parametrize("side", [("branch_admin", "branch"), ("wc_admin", "wc"), ("sibling_admin", "sibling")])
def test_both_sides_see_every_step_with_time_and_person(client, tree, side):
    transfer = allocated_transfer(tree)
    person, org = side
    login_as(client, getattr(tree, person), getattr(tree, org))
    response = client.get(reverse("transfer_detail", args=[transfer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for testid in ("step-approved", "step-allocated", "step-completed"):
        assert f'data-testid="{testid}"' in body
    # Where: short names repeat between schools, so each org is also given by its full name.
    for org in (tree.branch, tree.wc, tree.sibling):
        assert org.full_name in body
    # Who: the submitter, the decider and the allocator, by name; when: each step's time.
    assert tree.branch_admin.name in body and tree.wc_admin.name in body
    for moment in (transfer.submitted_at, transfer.decided_at, transfer.allocated_at, transfer.completed_at):
        assert moment is not None
        assert moment.astimezone().strftime("%Y-%m-%d") in body


@pytest.mark.django_db
def test_allocation_choices_name_the_parent_of_each_branch(client, tree):
    # Two branches of the same name in different general branches: the list must tell them apart.
    other_gb = f.make_org("general_branch", parent=tree.wc, short_name="另一团总支")
    f.make_org("branch", parent=other_gb, short_name=tree.branch2.short_name)
    transfer = services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk,
                                            target_org_id=tree.wc.pk, reason="工作调动")
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    login_as(client, tree.wc_admin, tree.wc)
    field = client.get(reverse("transfer_detail", args=[transfer.pk])).context["allocate_form"]["branch"]
    labels = [str(label) for value, label in field.field.choices if value != ""]
    assert f"{tree.gb.short_name} / {tree.branch2.short_name}（{tree.branch2.code}）" in labels
    assert any(label.startswith(f"另一团总支 / {tree.branch2.short_name}") for label in labels)


@pytest.mark.django_db
def test_allocation_choices_are_loaded_in_bounded_queries(tree, django_assert_max_num_queries):
    from transfers.forms import AllocateForm

    for _ in range(10):
        gb = f.make_org("general_branch", parent=tree.wc)
        f.make_org("branch", parent=gb)
    form = AllocateForm(branches=selectors.allocatable_branches(tree.wc))
    with django_assert_max_num_queries(2):
        html = str(form["branch"])
    assert html.count("<option") == 14  # 13 branches and the empty choice


@pytest.mark.django_db
def test_org_search_says_when_it_cut_the_list(client, tree, monkeypatch):
    monkeypatch.setattr(selectors, "ORG_SEARCH_LIMIT", 2)
    login_as(client, tree.branch_admin, tree.branch)
    url = reverse("transfer_org_search")
    many = json.loads(client.get(url, {"q": "团支部"}).content)
    assert len(many["results"]) == 2 and many["limited"] is True
    none = json.loads(client.get(url, {"q": "没有这个组织"}).content)
    assert none == {"results": [], "limited": False}


@pytest.mark.django_db
def test_transfer_out_page_has_the_search_notes(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    body = client.get(reverse("transfer_out")).content.decode()
    assert "No organization matches this name or code." in body
    assert "type more of the name or code" in body



@pytest.mark.django_db
def test_org_search_query_is_cut_to_a_sane_length(tree):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    f.make_org("branch", parent=tree.other_root, short_name="外市支部", code="X0003")
    with CaptureQueriesContext(connection) as queries:
        assert selectors.search_orgs("x" * 50_000) == []
    assert queries.captured_queries and all(len(q["sql"]) < 2_000 for q in queries.captured_queries)
    # A real name or code is never that long: it is still found.
    assert [r["code"] for r in selectors.search_orgs("  X0003 ")] == ["X0003"]


@pytest.mark.django_db
@pytest.mark.parametrize("tab", ["incoming", "allocation"])
def test_incoming_and_allocation_tabs_query_count_is_bounded(client, tree, tab, django_assert_max_num_queries):
    wc = act(tree.wc_admin, tree.wc)
    for _ in range(25):
        member = f.make_member(tree.branch)
        transfer = services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=member.pk,
                                                target_org_id=tree.wc.pk, reason="就业")
        services.transfer_approve(transfer_id=transfer.pk, actor=wc)
    login_as(client, tree.wc_admin, tree.wc)
    with django_assert_max_num_queries(15):
        response = client.get(reverse("transfer_list"), {"tab": tab})
    assert len(response.context["page"].object_list) == 25
    assert response.content.decode().count('data-testid="transfer-row"') == 25


@pytest.mark.django_db
def test_transfer_list_opens_on_waiting_allocation_tasks(client, tree):
    login_as(client, tree.wc_admin, tree.wc)
    assert client.get(reverse("transfer_list")).context["tab"] == "incoming"
    transfer = services.transfer_out_submit(actor=act(tree.branch_admin, tree.branch), member_id=tree.member.pk,
                                            target_org_id=tree.wc.pk, reason="就业")
    services.transfer_approve(transfer_id=transfer.pk, actor=act(tree.wc_admin, tree.wc))
    response = client.get(reverse("transfer_list"))
    assert response.context["tab"] == "allocation"
    assert [t.pk for t in response.context["page"]] == [transfer.pk]
    # Asked for another tab, the admin gets it; the source side has no allocation to do.
    assert client.get(reverse("transfer_list"), {"tab": "outgoing"}).context["tab"] == "outgoing"
    login_as(client, tree.branch_admin, tree.branch)
    assert client.get(reverse("transfer_list")).context["tab"] == "incoming"
