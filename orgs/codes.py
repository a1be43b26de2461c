"""Admin registration codes and admin registration: services and selectors.

A superior admin hands the admin role of a direct subordinate org over by issuing a one-time code; whoever
registers with it becomes that org's admin (replacing the previous one: the code is the hand-over). After
registering, the admin completes the org's info and names its secretary, whose identity goes through the
pluggable verifier in members.verification.

Rules kept here:
- A code is 10 characters from a 56-character alphabet without look-alikes (no 0/O/o/1/l/I): about 58 bits,
  case-sensitive. Only its SHA-256 hash is stored; the plaintext is shown once and never audited.
- At most one live code per org (a DB constraint): issuing a new one revokes the old in the same transaction.
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
import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from audit.services import record
from members import idnumber, throttle
from members.choices import Position
from members.models import Cadre, Person
from members.verification import verify_identity
from notifications.services import MessageKind, notify
from zhtj.secret_codes import hash_code

from .models import Org, OrgAdmin, RegistrationCode
from .permissions import Actor, controls_person

# No 0/O/o, 1/l/I: codes are read aloud and typed from paper.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
CODE_LENGTH = 10
THROTTLE_SCOPE = "regcode"
CEILING_SCOPE = "regcode_org"


class CodeError(Exception):
    """A registration-code rule refused the request; the message is for the user (translated)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def code_lifetime() -> dt.timedelta:
    return dt.timedelta(days=settings.ZHTJ_REGISTRATION_CODE_DAYS)


# --- issuing ---------------------------------------------------------------------------------------------


def _issue(*, org: Org, created_by: Person | None, audit_actor, ip: str | None) -> tuple[str, dt.datetime]:
    """Revoke the org's live code and create a new one; caller holds the transaction."""
    now = timezone.now()
    Org.objects.select_for_update().filter(pk=org.pk).first()  # serialises issuing for one org
    revoked = RegistrationCode.objects.filter(org=org, used_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    code = new_code()
    row = RegistrationCode.objects.create(
        org=org, code_hash=hash_code(code), created_by=created_by, created_at=now, expires_at=now + code_lifetime()
    )
    record(
        action="code.issue", actor=audit_actor, org=org, target=row, ip=ip,
        after={"code_id": row.pk, "expires_at": row.expires_at, "revoked_previous": revoked},
    )
    return code, row.expires_at


def _require_direct_superior(actor: Actor, org: Org) -> None:
    if not actor.is_direct_superior_admin_of(org):
        raise PermissionDenied(_("Only the admin of the direct superior organization may issue its codes."))


@transaction.atomic
def code_issue(*, actor: Actor, org: Org) -> str:
    """A fresh code for a direct subordinate of the actor's org (the old one is revoked)."""
    _require_direct_superior(actor, org)
    code, _expires = _issue(org=org, created_by=actor.person, audit_actor=actor, ip=actor.ip)
    return code


@transaction.atomic
def code_issue_by_operator(*, org: Org) -> tuple[str, dt.datetime]:
    """The operator's path (manage.py issue_admin_code): no acting person, audited with actor None.

    It is how the first admin of a root org is provisioned.
    """
    return _issue(org=org, created_by=None, audit_actor=None, ip=None)


@transaction.atomic
def codes_issue_bulk(*, actor: Actor, orgs: list[Org]) -> list[tuple[Org, str, dt.datetime]]:
    """Fresh codes for several direct subordinates at once: all of them or none."""
    if not orgs:
        raise CodeError(_("Choose at least one organization."))
    for org in orgs:
        _require_direct_superior(actor, org)
    rows = []
    for org in sorted(orgs, key=lambda o: o.code):
        code, expires = _issue(org=org, created_by=actor.person, audit_actor=actor, ip=actor.ip)
        rows.append((org, code, expires))
    return rows


def codes_workbook(rows: list[tuple[Org, str, dt.datetime]]) -> bytes:
    """The .xlsx handed to subordinate orgs: 组织编码, 组织名称, 注册码, 有效期至 (codes stored as text)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "注册码"
    ws.append(["组织编码", "组织名称", "注册码", "有效期至"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for org, code, expires in rows:
        local = timezone.localtime(expires).replace(tzinfo=None)
        ws.append([org.code, org.full_name or org.short_name, code, local])
        row = ws.max_row
        for col in (1, 3):
            # Text, so spreadsheet software never turns a code or org code into a number or a date.
            ws.cell(row=row, column=col).number_format = "@"
        ws.cell(row=row, column=4).number_format = "yyyy-mm-dd hh:mm"
    for col, width in zip("ABCD", (14, 32, 16, 18), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- status (selector) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeStatus:
    """What the issuing admin sees for one subordinate org."""

    org: Org
    state: str  # "none", "live", "used", "expired", "revoked"
    code: RegistrationCode | None
    admin: Person | None


def subordinate_code_status(org: Org, *, now: dt.datetime | None = None) -> list[CodeStatus]:
    """The direct subordinates of org with their latest code's state and current admin (3 queries)."""
    now = now or timezone.now()
    newest = RegistrationCode.objects.filter(org=OuterRef("pk")).order_by("-created_at", "-id").values("pk")[:1]
    children = list(
        Org.objects.filter(parent=org)
        .select_related("type", "admin_assignment__person")
        .annotate(latest_code_id=Subquery(newest))
        .order_by("code")
    )
    # Only each org's newest code is read, however many were issued over the years.
    ids = [child.latest_code_id for child in children if child.latest_code_id is not None]
    latest = {row.org_id: row for row in RegistrationCode.objects.filter(pk__in=ids).select_related("used_by")}
    result = []
    for child in children:
        row = latest.get(child.pk)
        if row is None:
            state = "none"
        elif row.used_at is not None:
            state = "used"
        elif row.revoked_at is not None:
            state = "revoked"
        elif row.expires_at <= now:
            state = "expired"
        else:
            state = "live"
        assignment = getattr(child, "admin_assignment", None)
        result.append(CodeStatus(org=child, state=state, code=row, admin=assignment.person if assignment else None))
    return result


def orgs_for_registration(query: str, *, limit: int = 20) -> QuerySet[Org]:
    """Orgs matching a search by code or name, for the public registration page (no personal data)."""
    query = (query or "").strip()
    if len(query) < 2:
        return Org.objects.none()
    return (
        Org.objects.filter(Q(code__iexact=query) | Q(short_name__icontains=query) | Q(full_name__icontains=query))
        .select_related("type", "parent")
        .order_by("tree_id", "lft")[:limit]
    )


# --- registering an admin --------------------------------------------------------------------------------


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
    code = (code or "").strip()
    _check_throttle(org, ip)
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
    now = timezone.now()
    if row.used_at is not None:
        raise CodeError(_("This code has already been used. Ask your superior organization for a new one."),
                        field="code")
    if row.revoked_at is not None:
        raise CodeError(_("This code was replaced by a newer one. Ask your superior organization for the latest"
                          " code."), field="code")
    if row.expires_at <= now:
        raise CodeError(_("This code expired on %(date)s. Ask your superior organization for a new one.")
                        % {"date": f"{timezone.localtime(row.expires_at):%Y-%m-%d %H:%M}"}, field="code")

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

    # The atomic consumption: whoever updates the row first wins; the other sees "already used".
    consumed = RegistrationCode.objects.filter(
        pk=row.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, used_by=person)
    if consumed != 1:
        raise CodeError(_("This code has already been used. Ask your superior organization for a new one."),
                        field="code")

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
    throttle.register_success(THROTTLE_SCOPE, account=_throttle_account(org, ip))
    return person


# --- completing the org info -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CompleteResult:
    org: Org
    secretary: Person
    verified: bool  # False: a deputy was recorded because verification failed


def _may_name_secretary(actor: Actor, org: Org, person: Person) -> bool:
    """A post hands its org's admin the person's account, so the 书记 (or a deputy standing in) is someone the
    admin controls already; a branch's is its member (a branch's cadres are its members). The admin may name
    themselves: that grants nobody anything new."""
    if org.is_branch:
        return org.members.filter(person=person).exists()
    return person.pk == getattr(actor.person, "pk", None) or controls_person(actor, person)


def _secretary_refused(org: Org) -> str:
    if org.is_branch:
        return _("A branch's secretary is one of its members: add this person as a member of %(org)s first, or"
                 " have them transferred in (办理转入).") % {"org": org.short_name}
    return _("This person cannot be named secretary here: they hold a membership, post or admin role that your"
             " organization does not oversee (an admin above both must make the change).")


@transaction.atomic
def org_complete(
    *, actor: Actor, org: Org, contact_phone: str, contact_email: str, secretary_name: str,
    secretary_id_number: str, secretary_phone: str, as_deputy: bool = False,
) -> CompleteResult:
    """Set the org's contacts and its secretary (creating their person record if new).

    The secretary's identity goes through the configured verifier. When it fails, the CodeError says why;
    the admin may then submit the same form with as_deputy=True naming a deputy (who must pass the check)
    to stand in as secretary for now (Org.secretary_is_deputy), and change it later.
    """
    if not actor.is_admin_of(org):
        raise PermissionDenied
    org = Org.objects.select_for_update(of=("self",)).select_related("secretary").get(pk=org.pk)
    secretary_name = (secretary_name or "").strip()
    try:
        number = idnumber.parse(secretary_id_number).number
    except ValidationError as exc:
        raise CodeError(" ".join(exc.messages), field="secretary_id_number") from None
    verification = verify_identity(name=secretary_name, id_number=number, phone=secretary_phone)
    if not verification.ok:
        if as_deputy:
            raise CodeError(
                _("The deputy's identity could not be verified either: %(reason)s") % {"reason": verification.reason},
                field="secretary_id_number",
            )
        raise CodeError(
            _("The secretary's identity could not be verified: %(reason)s You may record a deputy as secretary"
              " for now and change it later.") % {"reason": verification.reason},
            field="secretary_id_number",
        )

    person = Person.objects.select_for_update().filter(id_number=number).first()
    if person is None and org.is_branch:
        raise CodeError(_secretary_refused(org), field="secretary_id_number")
    if person is None:
        person = Person.objects.create_user(number, secretary_name, password=None, phone=secretary_phone)
        record(action="person.create", actor=actor, org=org, target=person,
               after={"name": person.name, "reason": "secretary"})
    else:
        if not _may_name_secretary(actor, org, person):
            # One sentence whatever the name, so an ID number held elsewhere confirms nothing about its holder.
            raise CodeError(_secretary_refused(org), field="secretary_id_number")
        if person.name != secretary_name:
            raise CodeError(_("The name does not match our record for this ID number."), field="secretary_name")
        if secretary_phone and not person.phone:
            person.phone = secretary_phone
            person.save(update_fields=["phone", "updated_at"])

    before = {
        "contact_phone": org.contact_phone, "contact_email": org.contact_email,
        "secretary_id": org.secretary_id, "secretary_is_deputy": org.secretary_is_deputy,
    }
    today = timezone.localdate()
    # The 书记 post follows Org.secretary: a new secretary (or a deputy standing in) ends the old post.
    old_posts = Cadre.objects.filter(org=org, position=Position.SECRETARY)
    if not as_deputy:
        old_posts = old_posts.exclude(person=person)
    ended = list(old_posts.values_list("person_id", flat=True))
    old_posts.delete()
    if as_deputy:
        Cadre.objects.get_or_create(person=person, org=org, position=Position.DEPUTY_SECRETARY,
                                    defaults={"since": today})
    else:
        Cadre.objects.get_or_create(person=person, org=org, position=Position.SECRETARY, defaults={"since": today})

    org.contact_phone = (contact_phone or "").strip()
    org.contact_email = (contact_email or "").strip()
    org.secretary = person
    org.secretary_is_deputy = as_deputy
    org.save(update_fields=["contact_phone", "contact_email", "secretary", "secretary_is_deputy", "updated_at"])
    record(
        action="org.complete", actor=actor, org=org, target=org, before=before,
        after={"contact_phone": org.contact_phone, "contact_email": org.contact_email,
               "secretary_id": person.pk, "secretary_is_deputy": as_deputy, "secretary_posts_ended": ended},
    )
    return CompleteResult(org=org, secretary=person, verified=not as_deputy)
