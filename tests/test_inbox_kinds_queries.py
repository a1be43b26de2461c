"""The inbox stays at a bounded number of queries whatever kinds fill it (personal info, transfers)."""

from django.urls import reverse

from members.services import personal_info_request
from orgs.permissions import Actor
from transfers.services import transfer_out_submit

from . import factories as f
from .conftest import login_as


def test_inbox_with_personal_info_and_transfer_requests_is_bounded(client, tree, django_assert_max_num_queries):
    for i in range(15):
        member = f.make_member(tree.branch)
        personal_info_request(actor=Actor(person=member.person), member=member,
                              changes={"phone": f"139{i:08d}"})
        transfer_out_submit(actor=Actor(person=tree.branch_admin, org=tree.branch), member_id=member.pk,
                            target_org_id=tree.branch2.pk, reason="升学", reason_text="")
    # The general branch's admin is the direct superior of both branches: both kinds reach this inbox.
    login_as(client, tree.gb_admin, tree.gb)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("inbox"))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 30
