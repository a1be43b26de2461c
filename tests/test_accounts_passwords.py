"""Passwords: the forced activation step, the password rules, changing a password (other sessions end),
and reset codes (who may issue them, one live code, one use, expiry, throttled guessing)."""

import datetime as dt
import hashlib
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEntry
from members import accounts, throttle
from members.middleware import ACTING_ORG_SESSION_KEY
from members.models import Person, ResetCode

from . import factories as f
from .conftest import login_as

PASSWORD = "Str0ng-pass!"
NEW = "Violet-harbour-77"


def zh(message) -> str:
    """The message as a Chinese user sees it (English until the catalog is compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


def snapshot(person: Person) -> tuple:
    person.refresh_from_db()
    return person.password, person.password_set_at


def field_errors(response, field: str) -> list[str]:
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def logged_in(client) -> bool:
    return client.get(reverse("password_change")).status_code == 200


# --- the forced activation step ----------------------------------------------------------------------------


def test_set_password_activates_and_records_when(client, db):
    person = f.make_person(password=None)
    login_as(client, person)
    response = client.post(reverse("password_set"), {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302 and response.url == reverse("home")
    person.refresh_from_db()
    assert person.password_set_at is not None and not person.needs_password
    assert person.check_password(NEW)
    assert AuditEntry.objects.filter(action="password.set", target_id=str(person.pk)).count() == 1
    # Still logged in (the session hash was updated) and free to go anywhere.
    assert client.get(reverse("password_change")).status_code == 200


def test_set_password_then_single_admin_acts_for_their_org(client, tree):
    admin = f.make_admin(tree.branch2, person=f.make_person(password=None))
    login_as(client, admin)
    client.post(reverse("password_set"), {"new_password1": NEW, "new_password2": NEW})
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.branch2.pk


def test_set_password_page_sends_people_with_a_password_to_change(client, db):
    login_as(client, f.make_person(password=PASSWORD))
    response = client.get(reverse("password_set"))
    assert response.status_code == 302 and response.url == reverse("password_change")


def test_set_password_service_refuses_when_already_set(db):
    person = f.make_person(password=PASSWORD)
    before = snapshot(person)
    with pytest.raises(accounts.AccountError):
        accounts.set_initial_password(person=person, new_password=NEW)
    assert snapshot(person) == before


def test_activation_page_is_reachable_and_logout_works_for_people_without_password(client, db):
    person = f.make_person(password=None)
    login_as(client, person)
    assert client.get(reverse("password_set")).status_code == 200
    assert client.get(reverse("password_reset")).status_code == 302  # held to the activation step
    client.post(reverse("logout"))
    assert client.get(reverse("password_reset")).status_code == 200


def id_digits_password(person: Person) -> str:
    return "Zq!" + person.id_number[6:14] + "mm"


def fullwidth_id_digits_password(person: Person) -> str:
    return "Zq!" + "".join(chr(ord(c) + 0xFEE0) for c in person.id_number[6:14]) + "mm"


@pytest.mark.parametrize(
    "make_password, message",
    [
        # A plural message (ngettext), so its Chinese text is given as it is.
        (lambda p: "Ab1!xyz", "密码太短，至少需要 8 个字符。"),
        (lambda p: "8472910365", "This password is entirely numeric."),
        (lambda p: "iloveyou", "This password is too common."),
        (lambda p: "Password1", "This password is too common."),
        (id_digits_password, "The password may not contain digits of your ID number."),
        (fullwidth_id_digits_password, "The password may not contain digits of your ID number."),
        (lambda p: p.id_number[-8:], "The password may not contain digits of your ID number."),
    ],
    ids=["short", "all-digits", "common", "common-capitalised", "id-digits", "fullwidth-id-digits", "initial-password"],
)
def test_each_password_rule_is_refused_with_a_clear_message(client, db, make_password, message):
    person = f.make_person(password=None)
    login_as(client, person)
    before = snapshot(person)
    password = make_password(person)
    response = client.post(reverse("password_set"), {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        expected = gettext(message)
    assert expected in field_errors(response, "new_password1")
    assert snapshot(person) == before
    assert not AuditEntry.objects.filter(action="password.set").exists()


def test_mismatched_new_passwords_are_refused(client, db):
    person = f.make_person(password=None)
    login_as(client, person)
    before = snapshot(person)
    response = client.post(reverse("password_set"), {"new_password1": NEW, "new_password2": NEW + "x"})
    assert field_errors(response, "new_password2")
    assert snapshot(person) == before


def test_long_passphrases_are_allowed(client, db):
    person = f.make_person(password=None)
    login_as(client, person)
    passphrase = "correct horse battery staple " * 4  # 116 characters
    response = client.post(reverse("password_set"), {"new_password1": passphrase, "new_password2": passphrase})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password(passphrase)


def test_password_validators_are_configured(settings):
    names = {v["NAME"].rsplit(".", 1)[-1] for v in settings.AUTH_PASSWORD_VALIDATORS}
    assert {"MinimumLengthValidator", "CommonPasswordValidator", "NumericPasswordValidator",
            "IdNumberDigitsValidator"} <= names


# --- changing a password -----------------------------------------------------------------------------------


def test_change_password_keeps_this_session_and_ends_the_others(db):
    person = f.make_person(password=PASSWORD)
    here, elsewhere = Client(), Client()
    login_as(here, person)
    login_as(elsewhere, person)
    assert logged_in(elsewhere)
    response = here.post(reverse("password_change"),
                         {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert logged_in(here)
    assert not logged_in(elsewhere)
    person.refresh_from_db()
    assert person.check_password(NEW)
    assert AuditEntry.objects.filter(action="password.changed", target_id=str(person.pk)).exists()


def test_change_password_ends_the_old_session_key_too(db, settings):
    # This browser stays logged in under a new session key; whoever copied the old session cookie is out.
    person = f.make_person(password=PASSWORD)
    here = Client()
    login_as(here, person)
    old_key = here.cookies[settings.SESSION_COOKIE_NAME].value
    response = here.post(reverse("password_change"),
                         {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert here.cookies[settings.SESSION_COOKIE_NAME].value != old_key
    assert logged_in(here)
    copied = Client()
    copied.cookies[settings.SESSION_COOKIE_NAME] = old_key
    assert not logged_in(copied)


def test_change_password_with_wrong_old_password_changes_nothing(client, db):
    person = f.make_person(password=PASSWORD)
    login_as(client, person)
    before = snapshot(person)
    response = client.post(reverse("password_change"),
                           {"old_password": "not-it-at-all", "new_password1": NEW, "new_password2": NEW})
    assert field_errors(response, "old_password") == [zh("Your current password is incorrect.")]
    assert snapshot(person) == before
    assert AuditEntry.objects.filter(action="password.change_failed").count() == 1


def test_change_password_old_password_guesses_are_throttled(client, db, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 2
    person = f.make_person(password=PASSWORD)
    login_as(client, person)
    for _ in range(2):
        client.post(reverse("password_change"), {"old_password": "nope-nope", "new_password1": NEW,
                                                 "new_password2": NEW})
    response = client.post(reverse("password_change"),
                           {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert field_errors(response, "old_password") == [zh(accounts.ACCOUNT_LOCKED) % {"minutes": 15}]
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_change_password_applies_the_rules(client, db):
    person = f.make_person(password=PASSWORD)
    login_as(client, person)
    before = snapshot(person)
    response = client.post(reverse("password_change"),
                           {"old_password": PASSWORD, "new_password1": "12345678901", "new_password2": "12345678901"})
    assert field_errors(response, "new_password1")
    assert snapshot(person) == before


# --- reset codes: who may issue ----------------------------------------------------------------------------


def issue_as(client, actor_person, org, target: Person):
    login_as(client, actor_person, org)
    return client.post(reverse("reset_code_issue", args=[target.pk]))


@pytest.mark.parametrize(
    "who, status",
    [
        ("branch_admin", 200),  # the person's org admin
        ("gb_admin", 200),  # its direct superior admin
        ("wc_admin", 403),  # ancestor above the direct superior: may see, may not reset
        ("root_admin", 403),
        ("branch2_admin", 404),  # another branch: learns nothing
        ("sibling_admin", 404),
        ("outsider", 404),
    ],
)
def test_reset_code_issue_permissions(client, tree, who, status):
    admin = getattr(tree, who)
    org = {"branch_admin": tree.branch, "gb_admin": tree.gb, "wc_admin": tree.wc, "root_admin": tree.root,
           "branch2_admin": tree.branch2, "sibling_admin": tree.sibling, "outsider": tree.other_root}[who]
    target = tree.member.person
    target.set_password(PASSWORD)
    target.password_set_at = timezone.now()
    target.save()
    response = issue_as(client, admin, org, target)
    assert response.status_code == status
    assert ResetCode.objects.filter(person=target).count() == (1 if status == 200 else 0)
    assert AuditEntry.objects.filter(action="reset_code.issued").count() == (1 if status == 200 else 0)


@pytest.mark.parametrize(
    "who, status",
    [("gb_admin", 200), ("wc_admin", 200), ("root_admin", 403), ("branch_admin", 404), ("sibling_admin", 404)],
)
def test_reset_code_for_a_cadre_of_a_general_branch(client, tree, who, status):
    # A cadre of gb: its admin and the work committee's admin may; the branch admin below learns nothing.
    target = f.make_cadre(tree.gb).person
    org = {"gb_admin": tree.gb, "wc_admin": tree.wc, "root_admin": tree.root, "branch_admin": tree.branch,
           "sibling_admin": tree.sibling}[who]
    assert issue_as(client, getattr(tree, who), org, target).status_code == status
    assert ResetCode.objects.filter(person=target).count() == (1 if status == 200 else 0)


def test_reset_code_confirmation_page_is_checked_and_issues_nothing(client, tree):
    target = tree.member.person
    login_as(client, tree.wc_admin, tree.wc)
    assert client.get(reverse("reset_code_issue", args=[target.pk])).status_code == 403
    login_as(client, tree.branch_admin, tree.branch)
    response = client.get(reverse("reset_code_issue", args=[target.pk]))
    assert response.status_code == 200 and response.context["code"] is None
    assert not ResetCode.objects.exists()


def test_reset_code_issue_refused_for_members_and_anonymous(client, tree):
    target = tree.member.person
    other = f.make_member(tree.branch, person=f.make_person(password=PASSWORD)).person
    login_as(client, other)
    assert client.post(reverse("reset_code_issue", args=[target.pk])).status_code == 404
    login_as(client, target)
    Person.objects.filter(pk=target.pk).update(password_set_at=timezone.now())
    assert client.post(reverse("reset_code_issue", args=[target.pk])).status_code == 403
    client.post(reverse("logout"))
    response = client.post(reverse("reset_code_issue", args=[target.pk]))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert not ResetCode.objects.exists()


def test_reset_code_issue_for_unknown_person_is_404(client, tree):
    login_as(client, tree.branch_admin, tree.branch)
    assert client.post(reverse("reset_code_issue", args=[999999])).status_code == 404


def test_reset_code_service_refuses_without_permission(tree):
    from django.core.exceptions import PermissionDenied

    from orgs.permissions import Actor

    with pytest.raises(PermissionDenied):
        accounts.reset_code_issue(actor=Actor(person=tree.wc_admin, org=tree.wc), person=tree.member.person)
    assert not ResetCode.objects.exists()


def test_reset_code_is_shown_once_and_only_its_hash_is_stored(client, tree):
    target = tree.member.person
    response = issue_as(client, tree.branch_admin, tree.branch, target)
    code = response.context["code"]
    assert code in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    stored = ResetCode.objects.get(person=target)
    assert stored.code_hash == hashlib.sha256(accounts.normalize_code(code).encode()).hexdigest()
    assert accounts.normalize_code(code) not in stored.code_hash
    assert stored.expires_at - stored.created_at == dt.timedelta(hours=48)
    page = client.get(reverse("reset_code_issue", args=[target.pk])).content.decode()
    assert code not in page


def test_issuing_a_new_code_replaces_the_old(client, tree):
    target = tree.member.person
    first = issue_as(client, tree.branch_admin, tree.branch, target).context["code"]
    second = issue_as(client, tree.gb_admin, tree.gb, target).context["code"]
    assert first != second
    assert ResetCode.objects.filter(person=target, used_at__isnull=True).count() == 1
    with pytest.raises(accounts.AccountError):
        accounts.reset_password_with_code(id_number=target.id_number, code=first, new_password=NEW)
    accounts.reset_password_with_code(id_number=target.id_number, code=second, new_password=NEW)
    target.refresh_from_db()
    assert target.check_password(NEW)


# --- reset codes: using one ---------------------------------------------------------------------------------


def issue(tree, person: Person | None = None) -> tuple[Person, str]:
    from orgs.permissions import Actor

    person = person or tree.member.person
    return person, accounts.reset_code_issue(actor=Actor(person=tree.branch_admin, org=tree.branch), person=person)


def reset(client, id_number, code, password=NEW, ip="10.0.0.1"):
    return client.post(reverse("password_reset"), {"id_number": id_number, "code": code, "new_password1": password,
                                                   "new_password2": password}, REMOTE_ADDR=ip)


def test_reset_with_code_sets_the_password_and_ends_every_session(client, tree):
    person, code = issue(tree)
    Person.objects.filter(pk=person.pk).update(password_set_at=timezone.now())
    session = Client()
    login_as(session, person)
    assert logged_in(session)
    response = reset(client, person.id_number.lower(), code.lower().replace("-", " "))
    assert response.status_code == 302 and response.url == reverse("login")
    person.refresh_from_db()
    assert person.check_password(NEW) and person.password_set_at is not None
    assert ResetCode.objects.get(person=person).used_at is not None
    assert not logged_in(session)
    assert AuditEntry.objects.filter(action="reset_code.used", target_id=str(person.pk)).count() == 1
    assert AuditEntry.objects.filter(action="password.reset", target_id=str(person.pk)).count() == 1


def test_reset_code_used_twice_is_refused(client, tree):
    person, code = issue(tree)
    reset(client, person.id_number, code)
    before = snapshot(person)
    response = reset(client, person.id_number, code, password="Another-horse-99")
    used = "This reset code has already been used. Ask your admin for a new one."
    assert field_errors(response, "code") == [zh(used)]
    assert snapshot(person) == before


def test_expired_reset_code_is_refused(client, tree):
    person, code = issue(tree)
    ResetCode.objects.filter(person=person).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    before = snapshot(person)
    response = reset(client, person.id_number, code)
    assert field_errors(response, "code") == [zh("This reset code has expired. Ask your admin for a new one.")]
    assert snapshot(person) == before
    assert ResetCode.objects.get(person=person).used_at is None


WRONG = "The ID number or reset code is incorrect. Check both, or ask your admin for a new code."


def test_wrong_code_and_code_of_another_person_are_refused_alike(client, tree):
    person, code = issue(tree)
    other = f.make_member(tree.branch).person
    before = snapshot(person)
    wrong = reset(client, person.id_number, "AAAA-BBBB-CCCC")
    swapped = reset(client, other.id_number, code)
    unknown = reset(client, f.next_id_number(), code)
    for response in (wrong, swapped, unknown):
        assert [str(e) for e in response.context["form"].non_field_errors()] == [zh(WRONG)]
    assert snapshot(person) == before
    assert ResetCode.objects.get(person=person).used_at is None
    assert AuditEntry.objects.filter(action="reset_code.failed").count() == 3


def test_reset_code_guesses_are_throttled(client, tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    person, code = issue(tree)
    for attempt in range(3):
        reset(client, person.id_number, f"WRONG{attempt}", ip=f"10.0.1.{attempt}")
    response = reset(client, person.id_number, code, ip="10.0.2.1")
    assert [str(e) for e in response.context["form"].non_field_errors()] == [
        zh(accounts.ACCOUNT_LOCKED) % {"minutes": 15}]
    assert ResetCode.objects.get(person=person).used_at is None


def test_reset_code_guesses_per_address_are_throttled(client, tree, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES_PER_IP = 3
    person, code = issue(tree)
    for _ in range(3):
        reset(client, f.next_id_number(), "WRONGWRONG", ip="10.0.3.3")
    response = reset(client, person.id_number, code, ip="10.0.3.3")
    assert [str(e) for e in response.context["form"].non_field_errors()] == [
        zh(accounts.ADDRESS_LOCKED) % {"minutes": 15}]


def test_bad_new_password_does_not_consume_the_code(client, tree):
    person, code = issue(tree)
    response = reset(client, person.id_number, code, password="12345678")
    assert field_errors(response, "new_password1")
    assert ResetCode.objects.get(person=person).used_at is None
    reset(client, person.id_number, code)
    person.refresh_from_db()
    assert person.check_password(NEW)


def test_reset_success_clears_the_guess_counter(client, tree):
    person, code = issue(tree)
    reset(client, person.id_number, "WRONGWRONG")
    reset(client, person.id_number, code)
    assert throttle.failures(accounts.RESET_SCOPE, kind=throttle.ACCOUNT, ident=person.id_number) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uses_of_one_code_only_one_succeeds(tree):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    person, code = issue(tree)
    barrier = threading.Barrier(2)
    results: list[str] = []

    def use(password: str) -> None:
        try:
            barrier.wait()
            accounts.reset_password_with_code(id_number=person.id_number, code=code, new_password=password)
            results.append("ok")
        except accounts.AccountError:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=use, args=(p,)) for p in ("Violet-harbour-77", "Amber-canyon-58")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ok", "refused"]
    assert AuditEntry.objects.filter(action="reset_code.used").count() == 1
