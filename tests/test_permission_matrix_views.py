"""Issue 2's permission matrix: every view of the foundation against every kind of visitor.

The roles are relative to the target org `gb` (general branch G0001 under work committee W0001 under root
R0001): anonymous, a plain member, the admin of gb ("own"), its direct superior admin (wc), the admin of a
higher ancestor (root), the admin of a sibling org (B0003 under wc), the admin of a descendant (branch
B0001) and the admin of another tree. Each row states the status every role gets; whenever a role is
refused (403, 404, or sent to the login page) the test also asserts that nothing in the database changed.
Issue 9 extends it to every route of the site (members, approvals, transfers, imports, the language switch,
the captcha and the Django admin's door): rows about a branch-level object (a member, a transfer into a
branch, an import) name the roles relative to `branch` instead (own: its admin, superior: gb, ancestor: the
root, sibling: branch2). `test_every_route_is_in_the_matrix` fails when any route has no row.
"""

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, get_resolver, reverse
from openpyxl import Workbook

from approvals.models import ApprovalRequest
from audit.models import AuditEntry
from imports.models import ImportJob
from members.middleware import ACTING_ORG_SESSION_KEY
from members.models import Cadre, Member, Person, ResetCode
from orgs.models import Org, OrgAdmin, RegistrationCode
from orgs.permissions import Actor
from transfers.models import Transfer

from . import factories as f
from .conftest import client_for, login_as

ROLES = ["anonymous", "member", "own", "superior", "ancestor", "sibling", "descendant", "other_tree"]
ADMINS = ["own", "superior", "ancestor", "sibling", "descendant", "other_tree"]
LOGIN = "login"  # the expected outcome "redirected to the login page"
REFUSED = {403, 404, LOGIN}

# The modules whose views make up issue 2 (org tree, codes, accounts, landing page).
ISSUE_2_VIEW_MODULES = {"orgs.views", "orgs.code_views", "members.account_views", "zhtj.views"}


@pytest.fixture(autouse=True)
def _plain_http(settings):
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def _healthy_services(monkeypatch):
    # /healthz's own answers (200, 503 naming what is down) are tested in test_healthz.py; here only that it
    # answers everyone alike, whether or not a Celery worker runs beside the suite.
    from zhtj import health

    monkeypatch.setattr(health, "check", lambda: {"database": health.OK})


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
        list(Member.objects.order_by("pk").values_list("pk", "person_id", "branch_id", "status", "occupation")),
        list(Cadre.objects.order_by("pk").values_list("pk", "person_id", "org_id", "position")),
        list(Person.objects.order_by("pk").values_list("pk", "phone", "email", "is_active")),
        list(ApprovalRequest.objects.order_by("pk").values_list("pk", "status")),
        list(Transfer.objects.order_by("pk").values_list("pk", "status", "allocated_branch_id")),
        list(ImportJob.objects.order_by("pk").values_list("pk", "status", "attempts", "error_message", "started_at")),
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
    # Issue 9's rows: "gb" or "branch", the org the roles are relative to (see BRANCH_ROLES).
    target: str = "gb"
    # Objects the row needs, made before the request and kept as tree.made.
    setup: Callable | None = None
    # The roles whose request changes something (asserted); every other role must change nothing, whatever
    # it is answered. None: the issue-2 rule (refused roles change nothing).
    changes: frozenset | None = None
    headers: dict = field(default_factory=dict)


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


# --- issue 9: every other route ------------------------------------------------------------------------------

# Roles relative to the branch `branch` (B0001 under gb): a leaf has no descendant admin.
BRANCH_ROLES = {"own": ("branch_admin", "branch"), "superior": ("gb_admin", "gb"), "ancestor": ("root_admin", "root"),
                "sibling": ("branch2_admin", "branch2"), "other_tree": ("outsider", "other_root")}


def at_branch(anonymous=LOGIN, member=404, own=200, superior=200, ancestor=200, sibling=404, other_tree=404) -> dict:
    return dict(anonymous=anonymous, member=member, own=own, superior=superior, ancestor=ancestor, sibling=sibling,
                descendant=None, other_tree=other_tree)


ADMINS_ONLY = expect(member=403, sibling=200, descendant=200, other_tree=200)  # any admin; members 403
LOGGED_IN = everyone(200, anonymous=LOGIN)
OWN = frozenset({"own"})
OWN_AND_SUPERIOR = frozenset({"own", "superior"})


def _member_form(tree) -> dict:
    return {"name": "矩阵团员", "id_number": f.next_id_number(birth=dt.date(2006, 1, 5)), "ethnicity": "汉族",
            "political_status": "共青团员", "joined_on": "2021-03", "development_number": "202103009999",
            "phone": "13900001234", "email": "", "education": "高中", "occupation": "学生"}


def _member_edit_form(tree) -> dict:
    member, person = tree.member, tree.member.person
    return {"name": person.name, "id_number": person.id_number, "ethnicity": member.ethnicity,
            "political_status": member.political_status, "joined_on": f"{member.joined_on:%Y-%m}",
            "development_number": member.development_number or "", "phone": person.phone or "13900001234",
            "email": person.email, "education": member.education, "occupation": "矩阵职业", "reason": "矩阵更正"}


def _self_edit_form(tree) -> dict:
    data = _member_edit_form(tree)
    del data["name"], data["id_number"], data["reason"]
    return data


def _cadre_form(tree) -> dict:
    return {"name": "矩阵干部", "id_number": f.next_id_number(birth=dt.date(1995, 1, 1)), "position": "副书记",
            "since": "2023-09-01", "nature": "兼职", "ethnicity": "汉族", "political_status": "中共党员", "phone": ""}


def _gb_cadre_post(tree) -> Cadre:
    return f.make_cadre(tree.gb, position="宣传委员")


def _gb_info_request(tree) -> ApprovalRequest:
    # gb's own admin asks its direct superior (wc) to approve a new contact phone.
    from orgs.services import org_request_info_change

    return org_request_info_change(actor=Actor(person=tree.gb_admin, org=tree.gb), org=tree.gb,
                                   changes={"contact_phone": "010-88889999"})


def _transfer_into_branch(tree) -> Transfer:
    # A member of the work committee's own branch (B0003) sent to `branch`, which decides (its direct
    # superior gb may decide too); the source side is not among this row's roles.
    from transfers import services as transfers

    member = f.make_member(tree.sibling)
    return transfers.transfer_out_submit(actor=Actor(person=tree.sibling_admin, org=tree.sibling),
                                         member_id=member.pk, target_org_id=tree.branch.pk, reason="就业")


def _transfer_waiting_for_gb(tree) -> Transfer:
    # A member of B0003 sent to the general branch gb, approved: gb's admin allocates them to a branch.
    from transfers import services as transfers

    member = f.make_member(tree.sibling)
    transfer = transfers.transfer_out_submit(actor=Actor(person=tree.sibling_admin, org=tree.sibling),
                                             member_id=member.pk, target_org_id=tree.gb.pk, reason="就业")
    return transfers.transfer_approve(transfer_id=transfer.pk, actor=Actor(person=tree.gb_admin, org=tree.gb))


def _member_of_sibling(tree):
    return f.make_member(tree.sibling)


def _member_upload():
    from .import_helpers import member_row, upload, xlsx

    return upload(xlsx([member_row("矩阵")]))


def _import_job(tree) -> ImportJob:
    from django.core.files.base import ContentFile

    job = ImportJob(org=tree.branch, kind="member", created_by=tree.branch_admin, file_name="members.xlsx",
                    status="failed", retryable=True, error_message="crashed")
    job.file.save("members.xlsx", ContentFile(b"not read in this test"), save=False)
    job.failure_file.save("failures.xlsx", ContentFile(b"PK"), save=False)
    job.save()
    return job


def _captcha_key(tree) -> str:
    from captcha.models import CaptchaStore

    return CaptchaStore.generate_key()


def _request_approved(tree, role, response):
    assert ApprovalRequest.objects.get(pk=tree.made.pk).status == "approved"


def _message_to_branch(tree):
    from notifications.services import MessageKind, notify

    return notify(org=tree.branch, kind=MessageKind.values[0], text="A message for the branch.")


MADE = lambda tree: [tree.made.pk]  # noqa: E731
BRANCH = lambda tree: [tree.branch.pk]  # noqa: E731
MEMBER = lambda tree: [tree.member.pk]  # noqa: E731

CASES += [
    # members.views
    Case("member_list", "get", at_branch(), BRANCH, target="branch"),
    Case("member_export", "get", at_branch(), BRANCH, target="branch"),
    Case("member_add", "get", at_branch(ancestor=403), BRANCH, target="branch"),
    Case("member_add", "post", at_branch(own=302, superior=302, ancestor=403), BRANCH, _member_form,
         target="branch", changes=OWN_AND_SUPERIOR),
    Case("member_detail", "get", at_branch(), MEMBER, target="branch"),
    Case("member_edit", "get", at_branch(ancestor=403), MEMBER, target="branch"),
    Case("member_edit", "post", at_branch(own=302, superior=302, ancestor=403), MEMBER, _member_edit_form,
         target="branch", changes=OWN_AND_SUPERIOR),
    Case("member_set_status", "post", at_branch(own=302, superior=302, ancestor=403), MEMBER,
         lambda tree: {"status": "left", "reason": "矩阵", "confirm": "on"}, target="branch",
         changes=OWN_AND_SUPERIOR),
    Case("my_record", "get", LOGGED_IN),
    # Only a member has a record to edit: an admin without one finds no such page.
    Case("my_record_edit", "get", everyone(404, anonymous=LOGIN) | {"member": 200}),
    Case("my_record_edit", "post", everyone(404, anonymous=LOGIN) | {"member": 302}, data=_self_edit_form,
         changes=frozenset({"member"})),
    Case("cadre_list", "get", expect(), GB),
    Case("cadre_add", "get", expect(ancestor=403), GB),
    Case("cadre_add", "post", expect(own=302, superior=302, ancestor=403), GB, _cadre_form,
         changes=OWN_AND_SUPERIOR),
    Case("cadre_remove", "post", expect(own=302, superior=302, ancestor=403),
         lambda tree: [tree.gb.pk, tree.made.pk], setup=_gb_cadre_post, changes=OWN_AND_SUPERIOR),
    # approvals.views: gb's admin asked wc to approve an info change of gb.
    Case("inbox", "get", ADMINS_ONLY),
    Case("inbox", "post", everyone(302, anonymous=LOGIN) | {"member": 403},
         data=lambda tree: {"decision": "approve", "requests": [tree.made.pk], "reason": ""},
         setup=_gb_info_request, changes=frozenset({"superior"}), then=_request_approved),
    Case("request_detail", "get", expect(), MADE, setup=_gb_info_request),
    Case("request_decide", "post", expect(own=403, superior=302, ancestor=403), MADE,
         lambda tree: {"decision": "approve", "reason": ""}, setup=_gb_info_request,
         changes=frozenset({"superior"}), then=_request_approved),
    Case("request_withdraw", "post", expect(own=302, superior=403, ancestor=403), MADE, setup=_gb_info_request,
         changes=OWN),
    Case("my_requests", "get", LOGGED_IN),
    Case("admin_change", "get", expect(ancestor=403), GB),
    # The own admin's change waits for wc's approval (a request), the direct superior's takes effect at once.
    Case("admin_change", "post", expect(own=302, superior=302, ancestor=403), GB,
         lambda tree: {"new_admin": tree.made.person.pk, "reason": "矩阵换届"}, setup=_gb_cadre_post,
         changes=OWN_AND_SUPERIOR),
    Case("audit_log", "get", ADMINS_ONLY),
    # transfers.views
    Case("transfer_list", "get", ADMINS_ONLY),
    Case("transfer_in", "get", ADMINS_ONLY),
    # Into `branch`: only admins whose subtree holds it may choose it; for the others the form refuses.
    Case("transfer_in", "post", at_branch(member=403, own=302, superior=302, ancestor=302, sibling=200,
                                          other_tree=200),
         data=lambda tree: {"target_branch": tree.branch.pk, "name": tree.made.person.name,
                            "id_number": tree.made.person.id_number, "reason": "升学"},
         target="branch", setup=_member_of_sibling, changes=frozenset({"own", "superior", "ancestor"})),
    Case("transfer_out", "get", ADMINS_ONLY),
    Case("transfer_out", "post", at_branch(member=403, own=302, superior=302, ancestor=302, sibling=200,
                                           other_tree=200),
         data=lambda tree: {"member": tree.member.pk, "target_org": tree.sibling.pk, "reason": "就业"},
         target="branch", changes=frozenset({"own", "superior", "ancestor"})),
    Case("transfer_org_search", "get", ADMINS_ONLY, query="?q=B0003"),
    Case("transfer_detail", "get", at_branch(), MADE, target="branch", setup=_transfer_into_branch),
    Case("transfer_approve", "post", at_branch(own=302, superior=302, ancestor=403), MADE, target="branch",
         setup=_transfer_into_branch, changes=OWN_AND_SUPERIOR),
    Case("transfer_reject", "post", at_branch(own=302, superior=302, ancestor=403), MADE,
         lambda tree: {"reason": "矩阵拒绝"}, target="branch", setup=_transfer_into_branch,
         changes=OWN_AND_SUPERIOR),
    # Only the submitting side (B0003, not among this row's roles) withdraws; the deciding side rejects.
    Case("transfer_withdraw", "post", at_branch(own=403, superior=403, ancestor=403), MADE, target="branch",
         setup=_transfer_into_branch),
    # Only the receiving general branch's own admin allocates; the source side (B0003) sees it, may not.
    Case("transfer_allocate", "post", expect(own=302, superior=403, ancestor=403, sibling=403), MADE,
         lambda tree: {"branch": tree.branch.pk}, setup=_transfer_waiting_for_gb, changes=OWN),
    # imports.views: the branch's own admin and its direct superior import (FAQ §1, §5); higher admins see
    # the branch but are refused.
    Case("import_home", "get", at_branch(ancestor=403), BRANCH, target="branch"),
    Case("import_home", "post", at_branch(own=302, superior=302, ancestor=403), BRANCH,
         lambda tree: {"file": _member_upload()}, target="branch", changes=OWN_AND_SUPERIOR),
    Case("import_template", "get", at_branch(ancestor=403), BRANCH, target="branch"),
    Case("import_job", "get", at_branch(ancestor=403), MADE, target="branch", setup=_import_job),
    Case("import_progress", "get", at_branch(ancestor=403), MADE, target="branch", setup=_import_job),
    Case("import_failures", "get", at_branch(ancestor=403), MADE, target="branch", setup=_import_job),
    Case("import_retry", "post", at_branch(own=302, superior=302, ancestor=403), MADE, target="branch",
         setup=_import_job, changes=OWN_AND_SUPERIOR),
    # notifications.views: everyone reads their own messages; a message to `branch` is only its admin's.
    Case("message_list", "get", LOGGED_IN),
    Case("message_read_all", "post", everyone(302, anonymous=LOGIN)),
    Case("message_read", "post", at_branch(own=302, superior=404, ancestor=404), MADE, target="branch",
         setup=_message_to_branch),
    # The health check is public (load balancers): it says only whether the database and cache answer.
    Case("healthz", "get", everyone(200)),
    # Public helpers that grant nothing: the language switch and the captcha.
    Case("set_language", "post", everyone(302), data=lambda tree: {"language": "en", "next": "/"},
         changes=frozenset()),
    Case("captcha-image", "get", everyone(200), lambda tree: [tree.made], setup=_captcha_key),
    Case("captcha-image-2x", "get", everyone(200), lambda tree: [tree.made], setup=_captcha_key),
    # No speech synthesiser is configured (CAPTCHA_FLITE_PATH unset): the audio captcha does not exist.
    Case("captcha-audio", "get", everyone(404), lambda tree: [tree.made], setup=_captcha_key),
    Case("captcha-refresh", "get", everyone(200), headers={"X-Requested-With": "XMLHttpRequest"}),
    # The Django admin is for staff only (none of these roles): its own login page; the rest of its routes are
    # tested in tests/test_django_admin.py.
    Case("admin:index", "get", everyone("admin_login")),
]

# Routes with no row, and why.
NO_ROW = {"admin:": "the Django admin site: read-only for everyone, tested in tests/test_django_admin.py"}


def _client(client, tree, case, role):
    if case.target == "branch" and role in BRANCH_ROLES:
        person, org = BRANCH_ROLES[role]
        return login_as(client, getattr(tree, person), getattr(tree, org))
    return client_for(client, tree, role)


PARAMS = [pytest.param(case, role, id=f"{case.view}-{case.method}{i}-{role}")
          for i, case in enumerate(CASES) for role in ROLES if case.expected[role] is not None]


@pytest.mark.parametrize(("case", "role"), PARAMS)
def test_view_permission_matrix(client, tree, case, role, settings, tmp_path):
    settings.CAPTCHA_TEST_MODE = False  # nothing here relies on the captcha
    settings.MEDIA_ROOT = tmp_path / "media"
    if case.setup is not None:
        tree.made = case.setup(tree)
    args, data = case.args(tree), case.data(tree)
    c = _client(client, tree, case, role)
    before = state()
    url = reverse(case.view, args=args) + case.query
    send = c.post if case.method == "post" else c.get
    response = send(url, data, headers=case.headers) if case.method == "post" else send(url, headers=case.headers)
    expected = case.expected[role]
    if expected in (LOGIN, "admin_login"):
        assert response.status_code == 302
        login_url = reverse("login") if expected == LOGIN else reverse("admin:login")
        assert response["Location"].startswith(login_url), response["Location"]
    else:
        assert response.status_code == expected, (case.view, case.method, role, response.status_code)
    if case.changes is not None:
        if role in case.changes:
            assert state() != before, (case.view, role, "nothing changed")
            if case.then is not None:
                case.then(tree, role, response)
        else:
            assert state() == before, (case.view, role, "changed on refusal")
    elif expected in REFUSED:
        assert state() == before
    elif case.refused_with_error:
        assert response.context["form"].errors
        assert state()[:5] == before[:5]
    elif case.then is not None:
        case.then(tree, role, response)


def _route_names() -> tuple[set[str], list[str]]:
    """Every named route of the site (namespaced as "ns:name"), and the patterns that have no name."""
    names, unnamed = set(), []

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                if pattern.name:
                    names.add(namespace + pattern.name)
                elif not namespace:
                    unnamed.append(str(pattern.pattern))
            else:
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)

    walk(get_resolver().url_patterns)
    return names, unnamed


def test_every_route_is_in_the_matrix():
    names, unnamed = _route_names()
    assert {"org_tree", "member_detail", "transfer_allocate", "import_retry", "admin:index"} <= names  # scan works
    assert unnamed == []
    covered = {case.view for case in CASES}
    exempt = {name for name in names if any(name.startswith(prefix) for prefix in NO_ROW)} - covered
    assert names - covered - exempt == set()


def test_every_issue_2_view_is_in_the_matrix():
    names = {n for n in _route_names()[0] if ":" not in n}
    issue_2 = set()
    for pattern in get_resolver().url_patterns:
        for sub in getattr(pattern, "url_patterns", [pattern]):
            if isinstance(sub, URLPattern) and sub.callback.__module__ in ISSUE_2_VIEW_MODULES and sub.name:
                issue_2.add(sub.name)
    assert issue_2 <= names
    assert issue_2 - {case.view for case in CASES} == set()


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
