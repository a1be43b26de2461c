"""Issue 2's permission matrix: every view of the foundation against every kind of visitor.

The roles are relative to the target org `gb` (general branch G0001 under work committee W0001 under root
R0001): anonymous, a plain member, the admin of gb ("own"), its direct superior admin (wc), the admin of a
higher ancestor (root), the admin of a sibling org (B0003 under wc), the admin of a descendant (branch
B0001) and the admin of another tree. Each row states the status every role gets; whenever a role is
refused (403, 404, or sent to the login page) the test also asserts that nothing in the database changed.
`test_every_issue_2_view_is_in_the_matrix` fails when a view is added to the foundation's URL modules
without a row here.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, get_resolver, reverse
from openpyxl import Workbook

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from members.middleware import ACTING_ORG_SESSION_KEY
from members.models import Person, ResetCode
from orgs.models import Org, OrgAdmin, RegistrationCode

from . import factories as f
from .conftest import client_for

ROLES = ["anonymous", "member", "own", "superior", "ancestor", "sibling", "descendant", "other_tree"]
ADMINS = ["own", "superior", "ancestor", "sibling", "descendant", "other_tree"]
LOGIN = "login"  # the expected outcome "redirected to the login page"
REFUSED = {403, 404, LOGIN}

# The modules whose views make up issue 2 (org tree, codes, accounts, landing page).
ISSUE_2_VIEW_MODULES = {"orgs.views", "orgs.code_views", "members.account_views", "zhtj.views"}


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


def _xlsx() -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.append(["简称", "类别", "全称"])
    ws.append(["矩阵支部", "团支部", "矩阵支部全称"])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "orgs.xlsx"
    return out


def state() -> tuple:
    """Everything an issue-2 view could change, to assert that a refused request changed nothing."""
    return (
        list(Org.objects.order_by("pk").values_list(
            "pk", "code", "short_name", "full_name", "contact_phone", "contact_email", "secretary_id",
            "secretary_is_deputy", "parent_id", "lft", "rght", "level", "tree_id")),
        list(OrgAdmin.objects.order_by("pk").values_list("org_id", "person_id")),
        list(RegistrationCode.objects.order_by("pk").values_list("pk", "org_id", "used_at", "revoked_at")),
        list(ResetCode.objects.order_by("pk").values_list("pk", "person_id", "used_at")),
        list(Person.objects.order_by("pk").values_list("pk", "id_number", "password", "name")),
        ApprovalRequest.objects.count(),
        AuditEntry.objects.count(),
    )



def expect(anonymous=LOGIN, member=404, own=200, superior=200, ancestor=200, sibling=404, descendant=404,
           other_tree=404) -> dict:
    return dict(anonymous=anonymous, member=member, own=own, superior=superior, ancestor=ancestor,
                sibling=sibling, descendant=descendant, other_tree=other_tree)


def everyone(status, anonymous=None) -> dict:
    return {role: status for role in ROLES} | ({"anonymous": anonymous} if anonymous is not None else {})


@dataclass
class Case:
    view: str
    method: str
    expected: dict
    args: Callable = lambda tree: []
    data: Callable = lambda tree: {}
    query: str = ""
    # Extra check on an allowed response (e.g. that the code was really issued).
    then: Callable | None = field(default=None)
    # A public form given bad input answers 200 with its error: orgs, admins, codes and people stay as they
    # were (a failed attempt may still leave an audit row).
    refused_with_error: bool = False


def _gb_cadre(tree) -> Person:
    # A person whose org is gb (cadres belong to their org): the target of a password reset code.
    cadre = f.make_cadre(tree.gb)
    return cadre.person


def _one_code_for_branch(tree, role, response):
    assert RegistrationCode.objects.filter(org=tree.branch, used_at=None, revoked_at=None).count() == 1


def _one_reset_code(tree, role, response):
    assert ResetCode.objects.filter(used_at=None).count() == 1
    assert response.context["code"]


def _acting_for_gb(tree, role, response):
    assert response.wsgi_request.session[ACTING_ORG_SESSION_KEY] == tree.gb.pk


def _xlsx_response(tree, role, response):
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert RegistrationCode.objects.filter(used_at=None, revoked_at=None).count() == 2  # branch and branch2


GB = lambda tree: [tree.gb.pk]  # noqa: E731

CASES = [
    Case("home", "get", expect(member=200, own=302, superior=302, ancestor=302, sibling=302, descendant=302,
                               other_tree=302)),
    Case("org_tree", "get", expect(member=403, sibling=200, descendant=200, other_tree=200)),
    Case("org_tree", "get", expect(member=403, sibling=200, descendant=200, other_tree=200), query="?q=G0001"),
    Case("org_detail", "get", expect(), GB),
    Case("org_children", "get", expect(), GB),
    Case("org_create", "get", expect(superior=403, ancestor=403), GB),
    Case("org_create", "post", expect(own=302, superior=403, ancestor=403), GB,
         lambda tree: {"type": f.org_type("branch").pk, "short_name": "矩阵支部", "full_name": "矩阵支部全称"}),
    Case("org_bulk_create", "get", expect(superior=403, ancestor=403), GB),
    Case("org_bulk_create", "post", expect(own=302, superior=403, ancestor=403), GB, lambda tree: {"file": _xlsx()}),
    Case("org_bulk_template", "get", expect(superior=403, ancestor=403), GB),
    Case("org_add_people", "get", expect(superior=403, ancestor=403), GB),
    Case("org_add_people", "post", everyone(405, anonymous=LOGIN), GB),
    Case("org_edit", "get", expect(ancestor=403), GB),
    Case("org_edit", "post", expect(own=302, superior=302, ancestor=403), GB,
         lambda tree: {"short_name": "改名总支", "full_name": "改名总支全称", "contact_phone": "",
                       "contact_email": ""}),
    Case("org_move", "get", expect(own=403), GB),
    # gb to the root: beyond the work committee admin's reach (a form error), within the root admin's.
    Case("org_move", "post", expect(own=403, ancestor=302), GB, lambda tree: {"parent_code": "R0001"}),
    # gb has children: its direct superior is told it cannot be deleted (redirect with a message), others refused.
    Case("org_delete", "post", expect(own=403, superior=302, ancestor=403), GB),
    Case("org_codes", "get", expect(superior=403, ancestor=403), GB),
    Case("org_codes", "post", expect(superior=403, ancestor=403), GB,
         lambda tree: {"action": "generate", "org": tree.branch.pk}, then=_one_code_for_branch),
    Case("org_codes", "post", expect(superior=403, ancestor=403), GB,
         lambda tree: {"action": "export", "orgs": [tree.branch.pk, tree.branch2.pk]}, then=_xlsx_response),
    Case("org_complete", "get", expect(superior=403, ancestor=403), GB),
    Case("org_complete", "post", expect(own=302, superior=403, ancestor=403), GB,
         lambda tree: {"contact_phone": "010-66001234", "contact_email": "", "secretary_name": "矩阵书记",
                       "secretary_id_number": f.next_id_number(), "secretary_phone": "13800001234"}),
    Case("reset_code_issue", "get", expect(ancestor=403), lambda tree: [_gb_cadre(tree).pk]),
    Case("reset_code_issue", "post", expect(ancestor=403), lambda tree: [_gb_cadre(tree).pk],
         then=_one_reset_code),
    # Choosing an org to act for: only its own admin may; for the others it does not exist.
    Case("choose_org", "get", expect(member=302, sibling=200, descendant=200, other_tree=200)),
    Case("choose_org", "post", expect(own=302, superior=404, ancestor=404), data=lambda tree: {"org": tree.gb.pk},
         then=_acting_for_gb),
    Case("password_change", "get", everyone(200, anonymous=LOGIN)),
    # People who have set a password are sent on from the activation page.
    Case("password_set", "get", everyone(302, anonymous=LOGIN)),
    Case("logout", "post", everyone(302)),
    # Public pages (login, registration, reset with a code): open to all, they grant nothing by themselves.
    Case("login", "get", everyone(302, anonymous=200)),
    Case("healthz", "get", everyone(200, anonymous=200)),
    Case("register_admin", "get", everyone(200)),
    Case("register_admin", "post", everyone(200),
         data=lambda tree: {"org": tree.gb.code, "code": "WRONG-CODE-123", "name": "冒充者",
                            "id_number": f.next_id_number(), "phone": "13800001235",
                            "password": "Matrix-pass-2026", "password2": "Matrix-pass-2026"},
         refused_with_error=True),
    Case("register_admin_orgs", "get", everyone(200), query="?q=G0001"),
    Case("password_reset", "get", everyone(200)),
    Case("password_reset", "post", everyone(200),
         data=lambda tree: {"id_number": tree.gb_admin.id_number, "code": "not-a-code",
                            "new_password1": "Matrix-pass-2026", "new_password2": "Matrix-pass-2026"},
         refused_with_error=True),
]


PARAMS = [pytest.param(case, role, id=f"{case.view}-{case.method}{i}-{role}")
          for i, case in enumerate(CASES) for role in ROLES]


@pytest.mark.parametrize(("case", "role"), PARAMS)
def test_view_permission_matrix(client, tree, case, role, settings):
    settings.CAPTCHA_TEST_MODE = False  # nothing here relies on the captcha
    args, data = case.args(tree), case.data(tree)
    c = client_for(client, tree, role)
    before = state()
    url = reverse(case.view, args=args) + case.query
    response = c.post(url, data) if case.method == "post" else c.get(url)
    expected = case.expected[role]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == expected, (case.view, case.method, role, response.status_code)
    if expected in REFUSED:
        assert state() == before
    elif case.refused_with_error:
        assert response.context["form"].errors
        assert state()[:5] == before[:5]
    elif case.then is not None:
        case.then(tree, role, response)


def _issue_2_url_names() -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            if isinstance(sub, URLPattern) and sub.callback.__module__ in ISSUE_2_VIEW_MODULES and sub.name:
                names.add(sub.name)
    return names


def test_every_issue_2_view_is_in_the_matrix():
    names = _issue_2_url_names()
    assert {"org_tree", "register_admin", "login", "reset_code_issue", "home"} <= names  # the scan works
    assert names - {case.view for case in CASES} == set()


@pytest.mark.parametrize("role", ["own", "superior", "ancestor"])
def test_tampered_org_ids_in_forms_are_404_and_change_nothing(client, tree, role):
    # An org id outside the actor's subtree smuggled into a form field: the sibling branch, another tree.
    c = client_for(client, tree, role)
    for target in (tree.other_root, tree.sibling if role == "own" else tree.other_root):
        before = state()
        assert c.post(reverse("choose_org"), {"org": target.pk}).status_code == 404
        own_org = {"own": tree.gb, "superior": tree.wc, "ancestor": tree.root}[role]
        response = c.post(reverse("org_codes", args=[own_org.pk]), {"action": "generate", "org": target.pk})
        assert response.status_code == 404
        assert state() == before
