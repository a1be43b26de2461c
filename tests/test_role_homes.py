"""Each role's home: a member's record, requests, transfers and messages; a new admin's next steps; and
the pages a plain member gets when they open an admin URL."""

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.services import request_reject
from members.services import personal_info_request
from notifications.services import MessageKind, notify
from orgs.models import Org
from orgs.permissions import Actor
from transfers import services as transfers

from . import factories as f
from .conftest import login_as

pytestmark = pytest.mark.django_db


def member_client(client, tree):
    person = tree.member.person
    person.set_password("Str0ng-pass!")
    person.password_set_at = timezone.now()  # past the activation step
    person.save()
    return login_as(client, person), person


def test_member_home_shows_record_requests_transfers_messages_and_password(client, tree):
    c, person = member_client(client, tree)
    req = personal_info_request(actor=Actor(person=person), member=tree.member, changes={"phone": "13900001111"})
    request_reject(request_id=req.pk, actor=Actor(person=tree.branch_admin, org=tree.branch), reason="号码有误")
    transfers.transfer_out_submit(actor=Actor(person=tree.branch_admin, org=tree.branch), member_id=tree.member.pk,
                                  target_org_id=tree.sibling.pk, reason="工作调动")
    notify(recipient=person, kind=MessageKind.PASSWORD, text="A note for you")
    response = c.get(reverse("home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="home-branch">一班团支部<' in page
    assert 'data-testid="home-request"' in page and "号码有误" in page
    assert 'data-testid="history-row"' in page and "机关团支部" in page
    assert "A note for you" in page and 'data-testid="home-message"' in page
    assert reverse("password_change") in page and reverse("my_record") in page
    assert person.id_number not in page


def test_member_home_does_not_show_other_peoples_messages(client, tree):
    c, _person = member_client(client, tree)
    notify(org=tree.branch, kind=MessageKind.TRANSFER, text="For the admin only")
    notify(recipient=tree.branch_admin, kind=MessageKind.PASSWORD, text="For someone else")
    page = c.get(reverse("home")).content.decode()
    assert "For the admin only" not in page and "For someone else" not in page


def test_member_home_query_count_is_bounded(client, tree, django_assert_max_num_queries):
    c, person = member_client(client, tree)
    for i in range(8):
        notify(recipient=person, kind=MessageKind.PASSWORD, text=f"note {i}")
    with django_assert_max_num_queries(14):
        assert c.get(reverse("home")).status_code == 200


def test_new_admin_home_leads_to_next_steps(client, tree):
    new_branch = f.make_org("branch", parent=tree.gb, short_name="新团支部")
    admin = f.make_admin(new_branch)
    login_as(client, admin, new_branch)
    response = client.get(reverse("home"), follow=True)
    page = response.content.decode()
    assert 'data-testid="next-steps"' in page
    assert reverse("org_complete", args=[new_branch.pk]) in page and 'data-testid="secretary-fix"' in page
    assert 'data-testid="step-add-members"' in page and reverse("import_home", args=[new_branch.pk]) in page


def test_higher_org_next_steps_name_codes_for_subordinates_without_admin(client, tree):
    new_gb = f.make_org("general_branch", parent=tree.wc, short_name="新团总支")
    f.make_org("branch", parent=new_gb, short_name="甲支部")
    f.make_org("branch", parent=new_gb, short_name="乙支部")
    admin = f.make_admin(new_gb)
    login_as(client, admin, new_gb)
    page = client.get(reverse("org_detail", args=[new_gb.pk])).content.decode()
    assert 'data-testid="step-issue-codes"' in page and "2" in page
    assert reverse("org_codes", args=[new_gb.pk]) in page
    assert reverse("org_add_people", args=[new_gb.pk]) in page


def test_next_steps_are_gone_once_done(client, tree):
    Org.objects.filter(pk=tree.branch.pk).update(secretary=f.make_person(), contact_phone="01088886666")
    login_as(client, tree.branch_admin, tree.branch)
    page = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert 'data-testid="next-steps"' not in page  # a member is in the branch, info complete


def test_next_steps_show_only_to_the_orgs_own_admin(client, tree):
    login_as(client, tree.gb_admin, tree.gb)
    page = client.get(reverse("org_detail", args=[tree.branch.pk])).content.decode()
    assert 'data-testid="next-steps"' not in page and 'data-testid="secretary-fix"' not in page


@pytest.mark.parametrize("url", ["/inbox/", "/transfers/", "/audit/"])
def test_plain_member_opening_an_admin_url_gets_a_page_for_members(client, tree, url):
    c, _person = member_client(client, tree)
    response = c.get(url)
    page = response.content.decode()
    assert response.status_code in (403, 404)
    assert 'data-testid="member-error"' in page and "切换到您管理的组织" not in page
    assert reverse("my_record") in page


def test_plain_member_opening_an_org_url_gets_a_page_for_members(client, tree):
    c, _person = member_client(client, tree)
    response = c.get(reverse("org_detail", args=[tree.branch.pk]))
    assert response.status_code == 404 and 'data-testid="member-error"' in response.content.decode()


def test_member_urls_never_show_the_debug_404(client, tree, settings):
    settings.DEBUG = True
    person = f.make_person()  # an account with no member record: /me/edit/ has nothing to edit
    login_as(client, person)
    response = client.get(reverse("my_record_edit"))
    page = response.content.decode()
    assert response.status_code == 404
    assert "URLconf" not in page and 'data-testid="member-error"' in page


def test_admins_still_get_the_admin_wording(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    page = client.get(reverse("org_detail", args=[tree.other_root.pk])).content.decode()
    assert 'data-testid="member-error"' not in page
