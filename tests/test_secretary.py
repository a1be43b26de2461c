"""Completing an org's info after registering: contacts and the secretary, verified through the pluggable
verifier, with a deputy standing in when verification fails."""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from members.models import Cadre, Person
from members.verification import IdRulesVerifier, Verification, get_verifier, verify_identity
from orgs.codes import CodeError
from orgs.models import Org
from orgs.permissions import Actor
from orgs.secretary import org_complete

from . import factories as f
from .conftest import login_as, role_relative_to_gb

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # The messages are asserted in their English source form, whatever the compiled catalog holds.
    with translation.override("en"):
        yield


class RejectingVerifier:
    """Stands for a national check that cannot confirm this person."""

    def verify(self, *, name: str, id_number: str, phone: str = "") -> Verification:
        return Verification(False, "not found in the national register.")


class RejectOneVerifier:
    """Rejects one ID number only (set REJECTED), accepts the others."""

    REJECTED = ""

    def verify(self, *, name: str, id_number: str, phone: str = "") -> Verification:
        return Verification(id_number != self.REJECTED, "not found in the national register.")


class BrokenVerifier:
    def verify(self, **kwargs):
        raise ConnectionError("service down")


def complete(tree, *, number=None, name="赵书记", as_deputy=False, org=None, actor=None):
    org = org or tree.branch
    actor = actor or Actor(person=tree.branch_admin, org=org, ip="10.2.2.2")
    if number is None and org.is_branch:
        # A branch's secretary is one of its members.
        number = branch_member(org, name).id_number
    return org_complete(
        actor=actor, org=org, contact_phone="010-12345678", contact_email="tzb@example.org",
        secretary_name=name, secretary_id_number=number or f.next_id_number(), secretary_phone="13900139000",
        as_deputy=as_deputy,
    )


def branch_member(branch, name="赵书记", number=None):
    return f.make_member(branch, person=f.make_person(name=name, id_number=number, password=None)).person


def snapshot(org):
    org = Org.objects.get(pk=org.pk)
    return (org.contact_phone, org.contact_email, org.secretary_id, org.secretary_is_deputy,
            Cadre.objects.filter(org=org).count(), Person.objects.count())


# --- the verifier --------------------------------------------------------------------------------------------


def test_default_verifier_is_the_id_rules():
    assert isinstance(get_verifier(), IdRulesVerifier)


def test_id_rules_verifier_accepts_a_valid_number_and_refuses_a_bad_checksum():
    number = f.next_id_number()
    assert IdRulesVerifier().verify(name="张三", id_number=number).ok
    bad = number[:17] + ("0" if number[17] != "0" else "1")
    result = IdRulesVerifier().verify(name="张三", id_number=bad)
    assert not result.ok and "check digit" in result.reason
    assert not IdRulesVerifier().verify(name=" ", id_number=number).ok


def test_verifier_is_pluggable_by_dotted_path(settings):
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.RejectingVerifier"
    assert isinstance(get_verifier(), RejectingVerifier)
    assert not verify_identity(name="张三", id_number=f.next_id_number()).ok


def test_a_verifier_that_raises_counts_as_a_failed_check(settings):
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.BrokenVerifier"
    result = verify_identity(name="张三", id_number=f.next_id_number())
    assert not result.ok and result.reason


# --- the service ---------------------------------------------------------------------------------------------


def test_setting_the_secretary_creates_their_person_and_post(tree):
    # A higher org's secretary need not be a member; a branch's must (tests/test_account_control.py).
    number = f.next_id_number()
    result = complete(tree, number=number, org=tree.gb, actor=Actor(person=tree.gb_admin, org=tree.gb))
    org = Org.objects.get(pk=tree.gb.pk)
    person = Person.objects.get(id_number=number)
    assert result.verified and org.secretary == person and not org.secretary_is_deputy
    assert person.name == "赵书记" and person.phone == "13900139000" and person.needs_password
    assert org.contact_phone == "010-12345678" and org.contact_email == "tzb@example.org"
    assert Cadre.objects.get(org=org, position="书记").person == person
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"person.create", "org.complete"} <= actions
    entry = AuditEntry.objects.get(action="org.complete")
    assert entry.actor == tree.gb_admin and entry.after["secretary_id"] == person.pk


def test_an_existing_person_is_reused_as_secretary(tree):
    existing = tree.member.person
    before = Person.objects.count()
    complete(tree, number=existing.id_number, name=existing.name)
    assert Person.objects.count() == before
    assert Org.objects.get(pk=tree.branch.pk).secretary == existing


def test_a_new_secretary_replaces_the_old_post(tree):
    first = complete(tree).secretary
    second = complete(tree, name="钱书记").secretary
    posts = Cadre.objects.filter(org=tree.branch, position="书记")
    assert [p.person_id for p in posts] == [second.pk] and first.pk != second.pk
    last = AuditEntry.objects.filter(action="org.complete").order_by("-id").first()
    assert last.after["secretary_posts_ended"] == [first.pk] and last.before["secretary_id"] == first.pk


def test_existing_person_with_another_name_is_refused(tree):
    existing = tree.member.person
    before = snapshot(tree.branch)
    with pytest.raises(CodeError, match="name does not match"):
        complete(tree, number=existing.id_number, name="别的名字")
    assert snapshot(tree.branch) == before


def test_malformed_secretary_id_number_is_refused_and_changes_nothing(tree):
    before = snapshot(tree.branch)
    for bad in ("110101200001011234", "1101012000", "x" * 18):
        with pytest.raises(CodeError) as exc:
            complete(tree, number=bad)
        assert exc.value.field == "secretary_id_number"
    assert snapshot(tree.branch) == before
    assert not AuditEntry.objects.filter(action="org.complete").exists()


def test_failed_verification_says_so_and_offers_a_deputy(tree, settings):
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.RejectingVerifier"
    number = branch_member(tree.branch).id_number
    before = snapshot(tree.branch)
    with pytest.raises(CodeError, match="deputy"):
        complete(tree, number=number)
    assert snapshot(tree.branch) == before


def test_deputy_is_recorded_when_the_secretary_cannot_be_verified(tree, settings):
    secretary_number = f.next_id_number()
    RejectOneVerifier.REJECTED = secretary_number
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.RejectOneVerifier"
    with pytest.raises(CodeError):
        complete(tree, number=secretary_number)
    branch_member(tree.branch, "赵书记", secretary_number)
    with pytest.raises(CodeError):
        complete(tree, number=secretary_number)
    deputy_number = branch_member(tree.branch, "孙副书记").id_number
    result = complete(tree, number=deputy_number, name="孙副书记", as_deputy=True)
    org = Org.objects.get(pk=tree.branch.pk)
    assert not result.verified and org.secretary_is_deputy and org.secretary.id_number == deputy_number
    assert Cadre.objects.get(org=org, person=org.secretary).position == "副书记"
    assert not Cadre.objects.filter(org=org, position="书记").exists()
    assert AuditEntry.objects.get(action="org.complete").after["secretary_is_deputy"] is True
    # Later the verified secretary replaces the deputy arrangement.
    RejectOneVerifier.REJECTED = ""
    complete(tree, number=secretary_number, name="赵书记")
    org.refresh_from_db()
    assert not org.secretary_is_deputy and org.secretary.id_number == secretary_number


def test_a_deputy_must_pass_verification_too(tree, settings):
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.RejectingVerifier"
    number = branch_member(tree.branch).id_number
    before = snapshot(tree.branch)
    with pytest.raises(CodeError, match="either"):
        complete(tree, number=number, as_deputy=True)
    assert snapshot(tree.branch) == before


@pytest.mark.parametrize("who", ["gb_admin", "root_admin", "sibling_admin", "outsider"])
def test_only_the_org_admin_may_complete_it(tree, who):
    own = {"gb_admin": tree.gb, "root_admin": tree.root, "sibling_admin": tree.sibling, "outsider": tree.other_root}
    number = branch_member(tree.branch).id_number
    before = snapshot(tree.branch)
    with pytest.raises(PermissionDenied):
        complete(tree, number=number, actor=Actor(person=getattr(tree, who), org=own[who]))
    assert snapshot(tree.branch) == before


# --- the page ------------------------------------------------------------------------------------------------


def url(org):
    return reverse("org_complete", args=[org.pk])


def post_data(**kw):
    data = {"contact_phone": "010-12345678", "contact_email": "tzb@example.org", "secretary_name": "赵书记",
            "secretary_id_number": f.next_id_number(), "secretary_phone": "13900139000"}
    data.update(kw)
    return data


def test_page_saves_and_goes_to_the_org(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    data = post_data(secretary_id_number=branch_member(tree.branch).id_number)
    response = client.post(url(tree.branch), data)
    assert response.status_code == 302 and response["Location"] == reverse("org_detail", args=[tree.branch.pk])
    assert Org.objects.get(pk=tree.branch.pk).secretary.id_number == data["secretary_id_number"]


def test_page_shows_the_verification_failure_and_the_deputy_option(client, tree, settings):
    settings.ZHTJ_SECRETARY_VERIFIER = "tests.test_secretary.RejectingVerifier"
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(url(tree.branch))
    assert b'data-testid="deputy-option"' not in response.content
    response = client.post(url(tree.branch), post_data())
    page = response.content.decode()
    assert response.status_code == 200 and "national register" in page and 'data-testid="deputy-option"' in page
    assert Org.objects.get(pk=tree.branch.pk).secretary is None


def test_page_shows_the_deputy_warning(client, tree):
    complete(tree, as_deputy=True)
    login_as(client, tree.branch_admin, tree.branch)
    assert b'data-testid="deputy-warning"' in client.get(url(tree.branch)).content


def test_page_refuses_bad_input_and_changes_nothing(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    before = snapshot(tree.branch)
    for bad in ({"secretary_id_number": "110101200001011234"}, {"secretary_phone": "123"},
                {"contact_email": "not-an-email"}, {"contact_phone": "phone!"}, {"secretary_name": ""}):
        response = client.post(url(tree.branch), post_data(**bad))
        assert response.status_code == 200 and b'data-testid="field-error"' in response.content
    assert snapshot(tree.branch) == before


PAGE_MATRIX = {
    "member": 404, "admin": 200, "direct_superior": 403, "ancestor": 403,
    "sibling": 404, "descendant": 404, "other_tree": 404,
}




def test_page_anonymous_goes_to_login(client, tree):
    before = snapshot(tree.gb)
    for method in (client.get, client.post):
        response = method(url(tree.gb), post_data())
        assert response.status_code == 302 and reverse("login") in response["Location"]
    assert snapshot(tree.gb) == before


@pytest.mark.parametrize("who", sorted(PAGE_MATRIX))
def test_page_permission_matrix(client, tree, who):
    person, org = role_relative_to_gb(tree, who)
    if person.needs_password:
        person.set_password("Str0ng-pass!")
        person.password_set_at = timezone.now()
        person.save()
    login_as(client, person, org)
    before = snapshot(tree.gb)
    assert client.get(url(tree.gb)).status_code == PAGE_MATRIX[who]
    response = client.post(url(tree.gb), post_data())
    if who == "admin":
        assert response.status_code == 302 and Org.objects.get(pk=tree.gb.pk).secretary is not None
    else:
        assert response.status_code == PAGE_MATRIX[who] and snapshot(tree.gb) == before
