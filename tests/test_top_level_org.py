"""§2 for a top-level org: nobody is above it, so its admin's info edits apply at once (audited), and the
admin-change page promises no approval that cannot happen."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from orgs import services
from orgs.models import Org
from orgs.permissions import Actor, may_edit_info_at_once

from . import factories as f
from .conftest import login_as

pytestmark = pytest.mark.django_db


def act(person, org):
    return Actor(person=person, org=org)


def test_top_level_admin_edit_takes_effect_at_once_and_is_audited(tree):
    diff = services.org_update_info(actor=act(tree.root_admin, tree.root), org=tree.root,
                                    changes={"contact_phone": "01088886666"})
    assert diff["contact_phone"][1] == "01088886666"
    assert Org.objects.get(pk=tree.root.pk).contact_phone == "01088886666"
    assert ApprovalRequest.objects.count() == 0
    entry = AuditEntry.objects.get(action="org.update")
    assert entry.actor == tree.root_admin and entry.org_id == tree.root.pk
    assert entry.after == {"contact_phone": "01088886666"}


def test_lower_orgs_own_admin_still_asks_for_approval(tree):
    assert services.org_update_info(actor=act(tree.wc_admin, tree.wc), org=tree.wc,
                                    changes={"contact_phone": "01088886666"}) == {}
    assert ApprovalRequest.objects.get().deciding_org == tree.root
    assert Org.objects.get(pk=tree.wc.pk).contact_phone != "01088886666"


def test_only_the_top_level_orgs_own_admin_edits_it_at_once(tree):
    assert may_edit_info_at_once(act(tree.root_admin, tree.root), tree.root)
    assert not may_edit_info_at_once(act(tree.outsider, tree.other_root), tree.root)
    assert not may_edit_info_at_once(act(tree.wc_admin, tree.wc), tree.root)
    with pytest.raises(PermissionDenied):
        services.org_update_info(actor=act(tree.outsider, tree.other_root), org=tree.root,
                                 changes={"contact_phone": "01088886666"})
    assert Org.objects.get(pk=tree.root.pk).contact_phone != "01088886666"


def test_a_bad_value_from_the_top_level_admin_changes_nothing(tree):
    before = Org.objects.filter(pk=tree.root.pk).values().get()
    with pytest.raises(services.OrgError):
        services.org_update_info(actor=act(tree.root_admin, tree.root), org=tree.root,
                                 changes={"contact_email": "not-an-email"})
    assert Org.objects.filter(pk=tree.root.pk).values().get() == before
    assert not AuditEntry.objects.filter(action="org.update").exists()


def test_top_level_edit_page_says_at_once_and_saves(client, tree):
    login_as(client, tree.root_admin, tree.root)
    page = client.get(reverse("org_edit", args=[tree.root.pk])).content.decode()
    assert 'data-testid="at-once-top-level"' in page and "提交审批" not in page and "需要上级" not in page
    data = {name: getattr(tree.root, name) or "" for name in services.INFO_FIELDS}
    data["contact_phone"] = "01088886666"
    response = client.post(reverse("org_edit", args=[tree.root.pk]), data, follow=True)
    assert Org.objects.get(pk=tree.root.pk).contact_phone == "01088886666"
    text = response.content.decode()
    assert "顶级组织没有上级可审批" not in text and "审批" not in "".join(
        str(m) for m in response.context["messages"])


def test_top_level_admin_change_page_promises_no_approval(client, tree):
    f.make_cadre(tree.root)
    login_as(client, tree.root_admin, tree.root)
    page = client.get(reverse("admin_change", args=[tree.root.pk])).content.decode()
    assert 'data-testid="top-level-admin-change"' in page and "issue_admin_code R0001" in page
    assert 'data-testid="submit"' not in page and "等待" not in page


def test_lower_org_admin_change_page_still_names_its_approver(client, tree):
    f.make_cadre(tree.wc)
    login_as(client, tree.wc_admin, tree.wc)
    page = client.get(reverse("admin_change", args=[tree.wc.pk])).content.decode()
    assert 'data-testid="top-level-admin-change"' not in page and tree.root.short_name in page
