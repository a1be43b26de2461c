"""Admin registration: whoever holds an org's registration code (orgs.codes) becomes its admin.

Rules kept here:
- Registration consumes the code with a conditional UPDATE inside the transaction that creates the admin, so
  two people using the same code at once cannot both succeed.
- Wrong-code guesses are throttled (members.throttle) per org and client address with the login limit, per
  address across orgs, and per org with a higher ceiling (ZHTJ_REGCODE_MAX_FAILURES_PER_ORG): one guesser
  cannot lock an org's registration for everyone else, a spread-out attack still meets a limit. Wrong guesses
  and the locks they start are audited (never the code or a whole ID number).
- Every input is checked before the transaction: a bad ID number or weak password consumes nothing.
- An ID number that already has an account with a real password may become admin only by entering that
  account's password (proving it is theirs); an account that never set a password is activated with the new
  one, since the code itself is the proof a superior gave (the initial password is no secret anyway).
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import record
from members import idnumber, throttle
from members.models import Person
from notifications.services import MessageKind, notify
from zhtj.secret_codes import hash_code

from .codes import CodeError
from .models import Org, OrgAdmin, RegistrationCode

THROTTLE_SCOPE = "regcode"
CEILING_SCOPE = "regcode_org"


class _CountedRefusal(CodeError):
    """A refusal counted by the throttle; audited once the registration's transaction has rolled back."""

    def __init__(self, message: str, *, field: str, reason: str, lock_kind: str | None):
        super().__init__(message, field=field)
        self.reason = reason
        self.lock_kind = lock_kind


def _throttle_account(org: Org, ip: str | None) -> str:
    return f"org:{org.pk}:ip:{ip or ''}"


def _ceiling_account(org: Org) -> str:
    return f"org:{org.pk}"


def _check_throttle(org: Org, ip: str | None) -> None:
    lock = throttle.current_lock(THROTTLE_SCOPE, account=_throttle_account(org, ip), ip=ip) or throttle.current_lock(
        CEILING_SCOPE, account=_ceiling_account(org), ip=None
    )
    if lock is not None:
        raise CodeError(
            _("Too many wrong codes were entered. Try again in %(minutes)d minutes.")
            % {"minutes": lock.minutes_left()},
            field="code",
        )


def _wrong(org: Org, ip: str | None, message: str, *, reason: str, field: str = "code") -> _CountedRefusal:
    lock = throttle.register_failure(THROTTLE_SCOPE, account=_throttle_account(org, ip), ip=ip)
    ceiling = throttle.register_failure(
        CEILING_SCOPE, account=_ceiling_account(org), ip=None,
        account_limit=settings.ZHTJ_REGCODE_MAX_FAILURES_PER_ORG,
    )
    if lock is not None:
        lock_kind = "org_address" if lock.kind == throttle.ACCOUNT else "address"
    else:
        lock_kind = "org" if ceiling is not None else None
    return _CountedRefusal(message, field=field, reason=reason, lock_kind=lock_kind)


def _validate_registration(*, name: str, id_number: str, phone: str, password: str) -> tuple[str, str]:
    """Check every input before anything is locked or consumed; returns (normalised ID number, name)."""
    name = (name or "").strip()
    if not name:
        raise CodeError(_("Enter your name."), field="name")
    try:
        number = idnumber.parse(id_number).number
    except ValidationError as exc:
        raise CodeError(" ".join(exc.messages), field="id_number") from None
    existing = Person.objects.filter(id_number=number).first()
    if existing is None or existing.needs_password:
        # The new password becomes the account's: it obeys every password rule, for this person.
        probe = existing or Person(id_number=number, name=name, phone=phone)
        try:
            validate_password(password, user=probe)
        except ValidationError as exc:
            raise CodeError(" ".join(exc.messages), field="password") from None
    return number, name


def admin_register(
    *, org: Org, code: str, name: str, id_number: str, phone: str, password: str, ip: str | None
) -> Person:
    """Make the holder of org's code its admin, in one transaction that consumes the code atomically.

    Raises CodeError naming the cause: wrong code for this org, code for another org, replaced, used or
    expired; too many wrong codes; invalid name, ID number or password; an existing account's password.
    """
    number, name = _validate_registration(name=name, id_number=id_number, phone=phone, password=password)
    try:
        return _admin_register(org=org, code=code, name=name, number=number, phone=phone, password=password, ip=ip)
    except _CountedRefusal as exc:
        # The registration's transaction rolled back; the audit entries are their own.
        masked = idnumber.mask(number)
        with transaction.atomic():
            record(action="regcode.failed", org=org, ip=ip, after={"reason": exc.reason, "id_number": masked})
            if exc.lock_kind is not None:
                record(action="regcode.locked", org=org, ip=ip,
                       after={"lock": exc.lock_kind, "id_number": masked,
                              "minutes": settings.ZHTJ_LOGIN_LOCK_MINUTES})
        raise


@transaction.atomic
def _admin_register(
    *, org: Org, code: str, name: str, number: str, phone: str, password: str, ip: str | None
) -> Person:
    _check_throttle(org, ip)
    row = _locked_code(org, (code or "").strip(), ip)
    now = timezone.now()
    _refuse_spent(row, now)
    person, created = _registrant(org, ip, name=name, number=number, phone=phone, password=password, now=now)
    # The atomic consumption: whoever updates the row first wins; the other sees "already used".
    consumed = RegistrationCode.objects.filter(
        pk=row.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, used_by=person)
    if consumed != 1:
        raise _already_used()
    _hand_over(org, person, row, now=now, ip=ip, created=created)
    throttle.register_success(THROTTLE_SCOPE, account=_throttle_account(org, ip))
    return person


def _already_used() -> CodeError:
    return CodeError(_("This code has already been used. Ask your superior organization for a new one."), field="code")


def _locked_code(org: Org, code: str, ip: str | None) -> RegistrationCode:
    """The code's row, locked; a code that is unknown or issued for another org is a counted wrong guess."""
    row = RegistrationCode.objects.select_for_update().filter(code_hash=hash_code(code)).first() if code else None
    if row is None:
        raise _wrong(org, ip, _(
            "This code is not valid for %(org)s. Codes are case-sensitive: check each letter, and check that you"
            " chose the organization the code was issued for."
        ) % {"org": org.short_name}, reason="wrong_code")
    if row.org_id != org.pk:
        raise _wrong(org, ip, _(
            "This code was issued for a different organization, not %(org)s: check the organization you chose."
        ) % {"org": org.short_name}, reason="other_org")
    return row


def _refuse_spent(row: RegistrationCode, now: dt.datetime) -> None:
    """A used, replaced or expired code says so (not counted: it was a real code)."""
    if row.used_at is not None:
        raise _already_used()
    if row.revoked_at is not None:
        raise CodeError(_("This code was replaced by a newer one. Ask your superior organization for the latest"
                          " code."), field="code")
    if row.expires_at <= now:
        raise CodeError(_("This code expired on %(date)s. Ask your superior organization for a new one.")
                        % {"date": f"{timezone.localtime(row.expires_at):%Y-%m-%d %H:%M}"}, field="code")


def _registrant(
    org: Org, ip: str | None, *, name: str, number: str, phone: str, password: str, now: dt.datetime
) -> tuple[Person, bool]:
    """The person registering, locked: created with the password, or an existing account (True if created)."""
    person = Person.objects.select_for_update().filter(id_number=number).first()
    created = person is None
    if created:
        try:
            with transaction.atomic():
                person = Person.objects.create_user(number, name, password=password, phone=phone)
        except IntegrityError:
            # A concurrent registration created this person after our look-up (on PostgreSQL the unique index
            # made us wait for its commit): go on as the serial case does, with the account it created.
            person = Person.objects.select_for_update().filter(id_number=number).first()
            if person is None:
                raise
            created = False
    if not created:
        # Both refusals below are counted like wrong codes: a code holder must not probe names or passwords.
        if person.name != name:
            raise _wrong(org, ip, _("The name does not match our record for this ID number."), reason="name_mismatch",
                         field="name")
        if not person.needs_password:
            if not person.check_password(password):
                raise _wrong(org, ip, _(
                    "An account with this ID number already exists: enter that account's password to take on"
                    " the admin role."
                ), reason="wrong_password", field="password")
        else:
            person.set_password(password)
            person.password_set_at = now
        if phone and not person.phone:
            person.phone = phone
        person.save(update_fields=["password", "password_set_at", "phone", "updated_at"])
    return person, created


def _hand_over(org: Org, person: Person, row: RegistrationCode, *, now: dt.datetime, ip: str | None,
               created: bool) -> None:
    """The code is the hand-over: person replaces the org's admin (audited), and the issuing org is told."""
    assignment = OrgAdmin.objects.select_for_update().filter(org=org).select_related("person").first()
    before = {"admin_id": assignment.person_id, "admin": assignment.person.name} if assignment else None
    if assignment is None:
        assignment = OrgAdmin.objects.create(org=org, person=person, assigned_at=now, assigned_by=row.created_by)
    else:
        assignment.person = person
        assignment.assigned_at = now
        assignment.assigned_by = row.created_by
        assignment.save(update_fields=["person", "assigned_at", "assigned_by"])
    record(
        action="admin.register", actor=person, acting_org=org, org=org, target=assignment, ip=ip, before=before,
        after={"admin_id": person.pk, "admin": person.name, "code_id": row.pk, "new_person": created},
    )
    if org.parent_id is not None:
        # The code was issued by the direct superior: whoever acts for it learns it was used, and by whom.
        notify(org=org.parent, kind=MessageKind.CODE_USED, link=reverse("org_detail", args=[org.pk]),
               text=gettext_noop("%(person)s registered as the admin of %(org)s with the code you issued."),
               params={"person": person.name, "org": org.short_name})
