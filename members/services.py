"""State changes of member and cadre records: add, edit, status, personal-info requests, cadre posts.

Every function takes the acting `actor` explicitly, checks it with the words of orgs.permissions, checks the
record with members.rules (the same rules the import and the approvals use), locks what it reads to decide,
and writes an audit entry in the same transaction. Failures raise MemberError with a translated message.
"""

import datetime as dt
from dataclasses import replace
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from approvals import services as approvals_services
from approvals.kinds import ApprovalError
from audit.services import record
from orgs.models import Org
from orgs.permissions import Actor, controls_person, manages, may_see_person
from zhtj.errors import UserError

from . import idnumber, throttle
from .choices import CadreNature, MemberStatus, Position
from .in_transfer import member_in_transfer
from .models import Cadre, Member, Person
from .rules import AGE_LIMIT, MemberInput, check_member

# Fields that live on the Person (shared by every role the person holds) and on the Member record.
PERSON_FIELDS = ("name", "id_number", "phone", "email")
MEMBER_FIELDS = ("ethnicity", "political_status", "joined_on", "development_number", "education", "occupation")
EDITABLE_FIELDS = PERSON_FIELDS + MEMBER_FIELDS
# Only an admin (with a recorded reason) corrects these; a member never edits them.
IDENTITY_FIELDS = ("name", "id_number")
SELF_EDITABLE_FIELDS = tuple(f for f in EDITABLE_FIELDS if f not in IDENTITY_FIELDS)
# Changing one field may break the rules of another: these are re-checked together.
_DEPENDENT = {
    "id_number": {"id_number", "joined_on"},
    "joined_on": {"joined_on", "development_number"},
    "development_number": {"development_number"},
}


class MemberError(UserError):
    """A refused member or cadre change: `message` for the page, `errors` maps fields to their messages."""

    def __init__(self, message: str = "", errors: dict[str, str] | None = None):
        self.errors = dict(errors or {})
        super().__init__(message or "; ".join(self.errors.values()))


def _today() -> dt.date:
    return timezone.localdate()


def may_manage_members(actor: Actor, branch: Org) -> bool:
    """The branch's admin or its direct superior admin adds and edits its members at once."""
    return manages(actor, branch)


def may_manage_cadres(actor: Actor, org: Org) -> bool:
    """Any admin manages the cadres of their own org; a direct superior admin those of direct children."""
    return manages(actor, org)


def has_cadre_post(person: Person | None, *, exclude: Cadre | None = None) -> bool:
    if person is None or person.pk is None:
        return False
    qs = Cadre.objects.filter(person=person)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.exists()


def serialize(field: str, value: Any) -> Any:
    """A field value as stored in audit entries and approval requests (JSON: dates as YYYY-MM-DD)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None and field != "development_number" and field != "joined_on":
        return ""
    return value


def deserialize(field: str, value: Any) -> Any:
    if field == "joined_on":
        if value in (None, ""):
            return None
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if field == "development_number":
        return value or None
    return "" if value is None else value


def current_values(member: Member, fields: tuple[str, ...] | list[str] = EDITABLE_FIELDS) -> dict[str, Any]:
    data = MemberInput.from_member(member)
    return {f: serialize(f, getattr(data, f)) for f in fields}


def _devno_taken(devno: str | None, *, exclude_member: Member | None = None) -> bool:
    if not devno:
        return False
    qs = Member.objects.filter(development_number=devno)
    if exclude_member is not None:
        qs = qs.exclude(pk=exclude_member.pk)
    return qs.exists()


def _normalized(data: MemberInput) -> MemberInput:
    number = idnumber.normalize(data.id_number)
    return replace(
        data,
        name=(data.name or "").strip(),
        id_number=number,
        joined_on=data.joined_on.replace(day=1) if isinstance(data.joined_on, dt.date) else data.joined_on,
        development_number=(data.development_number or "").strip() or None,
        phone=(data.phone or "").strip(),
        email=(data.email or "").strip(),
        occupation=(data.occupation or "").strip(),
        education=data.education or "",
    )


def _name_mismatch(actor: Actor, person: Person) -> str:
    """The ID number is known under another name. The name on record is told only to admins who may see the
    person: otherwise typing ID numbers would reveal whose they are (PIPL)."""
    if may_see_person(actor, person):
        return _(
            "This ID number is on record under the name %(name)s: check the name or the ID number."
        ) % {"name": person.name}
    return _("This ID number is on record under another name: check the name or the ID number.")


# Refused adds of people held elsewhere are throttled per admin, like 办理转入's lookups: each refusal tells
# that an ID number is known here, so they must not be tried by the thousand.
LOOKUP_SCOPE = "person_lookup"


class HeldElsewhere(Exception):
    """Raised inside the add's transaction; the caller audits and counts the refusal once it is rolled back."""

    def __init__(self, person: Person):
        super().__init__("held elsewhere")
        self.person = person


def held_outside_message() -> str:
    """The one answer for an ID number whose person the actor does not control: it names no org and reads the
    same whether the name matched or not (the name is no secret, and an org would tell where the person is)."""
    return _(
        "This person cannot be added here. If they belong to another organization, have them transferred in"
        " (办理转入), which checks the name and the ID number together."
    )


def may_grant_to(actor: Actor, person: Person) -> bool:
    """May the actor give this known person a membership or a post: they control the person, or it is the
    actor themselves (that hands nobody anything new)."""
    return person.pk == getattr(actor.person, "pk", None) or controls_person(actor, person)


def _lookup_account(actor: Actor) -> str:
    return f"person:{getattr(actor.person, 'pk', None)}"


def lookup_lock_message(actor: Actor) -> str | None:
    """Why the admin may add nobody for now (too many refused lookups), or None. Operators are not throttled."""
    if getattr(actor.person, "pk", None) is None:
        return None
    lock = throttle.current_lock(LOOKUP_SCOPE, account=_lookup_account(actor), ip=None)
    if lock is None:
        return None
    return _("Too many additions were refused. Try again in %(minutes)d minutes.") % {"minutes": lock.minutes_left()}


def check_lookup_lock(actor: Actor, *, org: Org, action: str) -> None:
    """Refuse (and audit) every add, new ID numbers too so a lock tells nothing, while the admin is locked."""
    message = lookup_lock_message(actor)
    if message is not None:
        record(action=action, actor=actor, org=org, after={"reason": "locked"})
        raise MemberError(message, {"id_number": message})


def record_refused_lookups(*, actor: Actor, org: Org, action: str, people: list[tuple[Person, int | None]]) -> bool:
    """Audit refusals of people held elsewhere (one entry each: masked ID number, no name) and count them
    towards the admin's throttle; True when that starts a lock."""
    locked = False
    for person, row in people:
        if getattr(actor.person, "pk", None) is not None:
            started = throttle.register_failure(LOOKUP_SCOPE, account=_lookup_account(actor), ip=None)
            locked = locked or started is not None
        after = {"id_number": person.masked_id_number, "person_id": person.pk, "reason": "held_elsewhere"}
        if row is not None:
            after["row"] = row
        record(action=action, actor=actor, org=org, after=after)
    return locked


def _refuse_held_elsewhere(actor: Actor, org: Org, exc: HeldElsewhere, action: str) -> MemberError:
    record_refused_lookups(actor=actor, org=org, action=action, people=[(exc.person, None)])
    message = held_outside_message()
    return MemberError(message, {"id_number": message})


def _other_membership_error(existing: Member, branch: Org) -> str:
    if existing.branch_id == branch.pk:
        return _("%(name)s is already a member of this branch.") % {"name": existing.person.name}
    if existing.status == MemberStatus.ACTIVE:
        return _(
            "This person is already an active member of %(org)s; a person is a member of one branch only:"
            " use a relationship transfer to move them."
        ) % {"org": existing.branch.full_name}
    return _(
        "This person has a member record (%(status)s) in %(org)s; ask that branch to transfer the record."
    ) % {"org": existing.branch.full_name, "status": existing.get_status_display()}


def member_add(*, actor: Actor, branch: Org, data: MemberInput) -> Member:
    """Add one active member to a branch (the branch's admin or its direct superior admin).

    Reuses the person record when the ID number is known and the actor controls that person
    (orgs.permissions.controls_person; the name must then match); creates one without a password otherwise
    (the person activates with the initial password). A known ID number of someone the actor does not control
    gets one answer whatever the name, is audited, and counts towards the admin's lookup throttle.
    """
    check_lookup_lock(actor, org=branch, action="member.add_refused")
    try:
        return _member_add(actor=actor, branch=branch, data=data)
    except HeldElsewhere as exc:  # the add's transaction is rolled back; the refusal is recorded
        raise _refuse_held_elsewhere(actor, branch, exc, "member.add_refused") from None


@transaction.atomic
def _member_add(*, actor: Actor, branch: Org, data: MemberInput, cadre_exempt: bool = False) -> Member:
    """member_add inside its transaction. `cadre_exempt` is for cadre_add: the person is about to hold a
    post, so the 28-year limit does not apply."""
    branch = Org.objects.select_related("type", "parent").select_for_update(of=("self",)).get(pk=branch.pk)
    if not may_manage_members(actor, branch):
        raise MemberError(_("Only the branch's admin or its direct superior admin may add members."))
    if not branch.is_branch:
        raise MemberError(_("Members belong to branches; %(org)s is not a branch.") % {"org": branch.short_name})
    data = _normalized(data)
    person = Person.objects.select_for_update().filter(id_number=data.id_number).first() if data.id_number else None
    errors = check_member(
        data, today=_today(), has_cadre_post=cadre_exempt or has_cadre_post(person)
    )
    if person is not None:
        if not may_grant_to(actor, person):
            raise HeldElsewhere(person)
        existing = Member.objects.select_related("branch").select_for_update(of=("self",)).filter(person=person).first()
        if existing is not None:
            message = _other_membership_error(existing, branch)
            raise MemberError(message, {"id_number": message})
        if person.name != data.name and "name" not in errors:
            errors["name"] = _name_mismatch(actor, person)
    if "development_number" not in errors and _devno_taken(data.development_number):
        errors["development_number"] = _("Development number %(n)s already belongs to another member.") % {
            "n": data.development_number
        }
    if errors:
        raise MemberError(errors=errors)
    try:
        with transaction.atomic():
            if person is None:
                person = Person.objects.create_user(data.id_number, data.name, password=None,
                                                    phone=data.phone, email=data.email)
            else:
                person.phone, person.email = data.phone, data.email
                person.save(update_fields=["phone", "email", "updated_at"])
            member = Member.objects.create(
                person=person, branch=branch, status=MemberStatus.ACTIVE, ethnicity=data.ethnicity,
                political_status=data.political_status, joined_on=data.joined_on,
                development_number=data.development_number, education=data.education,
                occupation=data.occupation,
            )
    except IntegrityError:
        # A concurrent add took the ID or development number between our check and our insert.
        raise MemberError(
            _("This person or development number was just added by someone else; reload and check.")
        ) from None
    record(action="member.add", actor=actor, org=branch, target=member,
                 after=current_values(member) | {"status": member.status})
    return member


def _lock_member(member: Member) -> Member:
    return (
        Member.objects.select_related("person", "branch__type", "branch__parent")
        .select_for_update(of=("self", "person"))  # the parent join is nullable: lock only what changes
        .get(pk=member.pk)
    )


def _checked_changes(
    member: Member, changes: dict[str, Any], *, today: dt.date
) -> tuple[MemberInput, MemberInput, list[str]]:
    """(the record before, the record after, the fields that really change) for `changes` on the member.

    Checks the record after against the rules, reporting only errors touching the changed fields (and the
    fields that depend on them), and that a changed development number or ID number is no one else's:
    MemberError otherwise. Nothing is checked when nothing changes.
    """
    before_input = MemberInput.from_member(member)
    new = _normalized(replace(before_input, **{f: deserialize(f, v) for f, v in changes.items()}))
    changed = [f for f in changes if getattr(new, f) != getattr(before_input, f)]
    if not changed:
        return before_input, new, changed
    affected: set[str] = set()
    for f in changed:
        affected |= _DEPENDENT.get(f, {f})
    errors = {f: m for f, m in check_member(new, today=today, has_cadre_post=True).items() if f in affected}
    if "development_number" in changed and "development_number" not in errors and _devno_taken(
        new.development_number, exclude_member=member
    ):
        errors["development_number"] = _("Development number %(n)s already belongs to another member.") % {
            "n": new.development_number
        }
    if "id_number" in changed and "id_number" not in errors and (
        Person.objects.filter(id_number=new.id_number).exclude(pk=member.person_id).exists()
    ):
        errors["id_number"] = _("This ID number already belongs to another person.")
    if errors:
        raise MemberError(errors=errors)
    return before_input, new, changed


def _apply_changes(member: Member, changes: dict[str, Any], *, today: dt.date) -> dict[str, Any]:
    """Check and write `changes` ({field: new value}) on a locked member; return the before values.

    Only errors touching the changed fields are reported, so an old record with a flaw elsewhere can still
    have its phone corrected. The 28-year limit concerns adding members, not editing them.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise MemberError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    person = member.person
    before_input, new, changed = _checked_changes(member, changes, today=today)
    if not changed:
        return {}
    before = {f: serialize(f, getattr(before_input, f)) for f in changed}
    person_fields = [f for f in changed if f in PERSON_FIELDS]
    member_fields = [f for f in changed if f in MEMBER_FIELDS]
    if person_fields:
        for f in person_fields:
            if f == "id_number":
                person.set_id_number(new.id_number)
            else:
                setattr(person, f, getattr(new, f))
        update = set(person_fields) | {"updated_at"}
        if "id_number" in update:
            update |= {"gender", "birth_date"}
        person.save(update_fields=sorted(update))
    if member_fields:
        for f in member_fields:
            setattr(member, f, getattr(new, f))
        member.save(update_fields=[*member_fields, "updated_at"])
    return before


@transaction.atomic
def member_update(*, actor: Actor, member: Member, changes: dict[str, Any], reason: str = "") -> Member:
    """An admin edit, effective at once: the branch's admin or its direct superior admin.

    Correcting the name or the ID number needs a reason, kept in the audit entry.
    """
    member = _lock_member(member)
    if not may_manage_members(actor, member.branch):
        raise MemberError(_("Only the branch's admin or its direct superior admin may edit this member."))
    reason = (reason or "").strip()
    before_input = MemberInput.from_member(member)
    proposed = _normalized(replace(before_input, **{f: changes[f] for f in IDENTITY_FIELDS if f in changes}))
    identity_changed = [f for f in IDENTITY_FIELDS if getattr(proposed, f) != getattr(before_input, f)]
    if identity_changed and not controls_person(actor, member.person):
        # The name and ID number are the account's (the login, the reset-code check): a branch admin does not
        # correct those of someone who is also held elsewhere or administers an org (orgs.permissions).
        message = _("The name and ID number of this person can only be corrected by an admin above every"
                    " organization they belong to or administer.")
        raise MemberError(message, {f: message for f in identity_changed})
    if identity_changed and not reason:
        raise MemberError(errors={"reason": _("Give the reason for correcting the name or the ID number.")})
    before = _apply_changes(member, changes, today=_today())
    if before:
        record(action="member.update", actor=actor, org=member.branch, target=member, before=before,
                     after=current_values(member, list(before)), reason=reason)
    return member


@transaction.atomic
def member_set_status(*, actor: Actor, member: Member, status: str, reason: str = "",
                      confirmed: bool = False) -> Member:
    """Set a member's status (active, aged out, left, ...) — the branch's admin or its direct superior admin.

    Re-activating checks the 28-year limit as adding does; 超龄离团 only at 28 or over and without a cadre
    post; 退团 only with a reason and the admin's explicit confirmation. Every change is audited.
    """
    reason = (reason or "").strip()
    member = _lock_member(member)
    if not may_manage_members(actor, member.branch):
        raise MemberError(_("Only the branch's admin or its direct superior admin may change this member's status."))
    if status not in MemberStatus.values:
        raise MemberError(_("Unknown status %(s)s.") % {"s": status})
    if status == member.status:
        return member
    if member_in_transfer(member):
        raise MemberError(_("This member is in a relationship transfer; change the status once it ends."))
    if status == MemberStatus.ACTIVE:
        errors = check_member(MemberInput.from_member(member), today=_today(),
                              has_cadre_post=has_cadre_post(member.person))
        if "id_number" in errors and "超龄" in errors["id_number"]:
            raise MemberError(errors["id_number"])
    elif status == MemberStatus.AGED_OUT:
        age = idnumber.age_on(member.person.birth_date, _today())
        if age < AGE_LIMIT:
            raise MemberError(_("%(name)s is %(age)d: a member leaves for age (超龄离团) only at %(limit)d or over.")
                              % {"name": member.person.name, "age": age, "limit": AGE_LIMIT})
        if has_cadre_post(member.person):
            raise MemberError(_("%(name)s holds a cadre post and stays a member past %(limit)d; end the post first.")
                              % {"name": member.person.name, "limit": AGE_LIMIT})
    elif status == MemberStatus.LEFT:
        if not reason:
            raise MemberError(_("Give the reason for leaving the league (退团)."))
        if not confirmed:
            raise MemberError(_("Confirm that this member leaves the league (退团): tick the confirmation."))
    before = {"status": member.status}
    member.status = status
    member.save(update_fields=["status", "updated_at"])
    record(action="member.status", actor=actor, org=member.branch, target=member, before=before,
           after={"status": status}, reason=reason)
    return member


# --- personal information requests (the member edits their own record; an admin approves) -------------

PERSONAL_INFO_KIND = "personal_info"


@transaction.atomic
def personal_info_request(*, actor: Actor, member: Member, changes: dict[str, Any]):
    """The member asks to change their own record: a pending request their branch admin (or its direct
    superior admin) decides. Name and ID number are not the member's to change. Returns the request."""
    member = _lock_member(member)
    if getattr(actor.person, "pk", None) != member.person_id:
        raise MemberError(_("Only the member may ask to change their own record."))
    forbidden = [f for f in changes if f in IDENTITY_FIELDS]
    if forbidden:
        raise MemberError(_("Your name and ID number can only be corrected by your branch admin."))
    unknown = set(changes) - set(SELF_EDITABLE_FIELDS)
    if unknown:
        raise MemberError(_("These fields cannot be edited: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    before_input, new, changed = _checked_changes(member, changes, today=_today())
    if not changed:
        raise MemberError(_("Nothing changed."))
    proposal = {
        f: [serialize(f, getattr(before_input, f)), serialize(f, getattr(new, f))] for f in changed
    }
    try:
        # The kind (registered below) lets the branch's direct superior admin decide too.
        return approvals_services.request_submit(
            kind=PERSONAL_INFO_KIND, target=member, changes=proposal, actor=actor, deciding_org=member.branch,
        )
    except ApprovalError as exc:
        raise MemberError(str(exc)) from None


def _personal_info_apply(request, actor: Actor) -> None:
    """The approvals engine calls this inside the approving transaction (member already locked): apply the
    new values, re-checked against the rules — an approval never writes what the form would refuse."""
    member = _lock_member(request.target)
    if request.deciding_org_id != member.branch_id:
        # Transferred since: the old branch no longer manages the record, and the new one never saw this.
        raise ApprovalError(_(
            "The member has moved to another branch since this request was made; reject it (the member may ask"
            " again)."
        ))
    new_values = {f: pair[1] for f, pair in request.changes.items()}
    if set(new_values) & set(IDENTITY_FIELDS):
        raise ApprovalError(_("A member may not change their name or ID number."))
    try:
        before = _apply_changes(member, new_values, today=_today())
    except MemberError as exc:
        raise ApprovalError(exc.message) from None
    if before:
        record(action="member.update", actor=actor, org=member.branch, target=member, before=before,
                     after=current_values(member, list(before)),
                     reason=_("Personal information request #%(n)s approved") % {"n": request.pk})


def _personal_info_current(member: Member) -> dict:
    # The engine hands a freshly loaded member (locked when deciding); the inbox preloads person.
    return current_values(member, SELF_EDITABLE_FIELDS)


# --- cadres -------------------------------------------------------------------------------------------


def cadre_add(
    *, actor: Actor, org: Org, person_data: MemberInput, position: str, since: dt.date, nature: str
) -> Cadre:
    """Give a person a cadre post in org (its admin, or the direct superior admin).

    An org has at most one 书记. A branch's cadre is also its member: if they are not, the membership is
    created with the member rules. A higher org's cadre need not be a member; their person record is found
    by ID number (the actor must control them and the name must match) or created. A person the actor does
    not control is refused as member_add refuses them.
    """
    check_lookup_lock(actor, org=org, action="cadre.add_refused")
    try:
        return _cadre_add(actor=actor, org=org, person_data=person_data, position=position, since=since,
                          nature=nature)
    except HeldElsewhere as exc:
        raise _refuse_held_elsewhere(actor, org, exc, "cadre.add_refused") from None


@transaction.atomic
def _cadre_add(
    *, actor: Actor, org: Org, person_data: MemberInput, position: str, since: dt.date, nature: str
) -> Cadre:
    org = Org.objects.select_related("type", "parent").select_for_update(of=("self",)).get(pk=org.pk)
    if not may_manage_cadres(actor, org):
        raise MemberError(_("Only the org's admin or its direct superior admin may manage its cadres."))
    if position not in Position.values:
        raise MemberError(errors={"position": _("Choose a position.")})
    if nature not in CadreNature.values:
        raise MemberError(errors={"nature": _("Choose the nature of the post.")})
    if since is None or since > _today():
        raise MemberError(errors={"since": _("Enter the date the post began (not in the future).")})
    if position == Position.SECRETARY:
        current = Cadre.objects.select_for_update(of=("self",)).select_related("person").filter(
            org=org, position=Position.SECRETARY
        ).first()
        if current is not None:
            raise MemberError(errors={"position": _(
                "%(org)s already has a secretary (%(name)s); an org has one secretary: remove that post first."
            ) % {"org": org.short_name, "name": current.person.name}})
    number = idnumber.normalize(person_data.id_number)
    try:
        idnumber.parse(number)
    except Exception as exc:  # ValidationError: show the ID number's own message
        raise MemberError(errors={"id_number": " ".join(getattr(exc, "messages", [str(exc)]))}) from None
    name = (person_data.name or "").strip()
    if not name:
        raise MemberError(errors={"name": _("Enter the name.")})
    person = Person.objects.select_for_update().filter(id_number=number).first()
    if person is not None and not may_grant_to(actor, person):
        raise HeldElsewhere(person)
    if person is not None and person.name != name:
        raise MemberError(errors={"name": _name_mismatch(actor, person)})
    if org.is_branch:
        membership = Member.objects.select_related("branch").filter(person=person).first() if person else None
        if membership is None:
            member = _member_add(actor=actor, branch=org, data=person_data, cadre_exempt=True)
            person = member.person
        elif membership.branch_id != org.pk:
            raise MemberError(errors={"id_number": _(
                "A branch's cadre is its member, and this person is a member of %(org)s: transfer them first."
            ) % {"org": membership.branch.full_name}})
    elif person is None:
        phone = (person_data.phone or "").strip()
        person = Person.objects.create_user(number, name, password=None, phone=phone,
                                            email=(person_data.email or "").strip())
    if Cadre.objects.filter(person=person, org=org, position=position).exists():
        raise MemberError(errors={"position": _("This person already holds this post.")})
    try:
        with transaction.atomic():
            cadre = Cadre.objects.create(person=person, org=org, position=position, since=since, nature=nature)
    except IntegrityError:
        raise MemberError(
            _("Someone else changed this org's cadres at the same moment; reload and try again.")
        ) from None
    record(action="cadre.add", actor=actor, org=org, target=cadre,
                 after={"person": person.name, "id_number": person.masked_id_number, "position": position,
                        "since": since.isoformat(), "nature": nature})
    return cadre


@transaction.atomic
def cadre_remove(*, actor: Actor, cadre: Cadre, reason: str = "") -> None:
    """End a cadre post (the org's admin or its direct superior admin). Membership, if any, stays."""
    cadre = (
        Cadre.objects.select_related("person", "org__type", "org__parent")
        .select_for_update(of=("self",))
        .get(pk=cadre.pk)
    )
    if not may_manage_cadres(actor, cadre.org):
        raise MemberError(_("Only the org's admin or its direct superior admin may manage its cadres."))
    before = {"person": cadre.person.name, "id_number": cadre.person.masked_id_number, "position": cadre.position,
              "since": cadre.since.isoformat(), "nature": cadre.nature}
    org = cadre.org
    record(action="cadre.remove", actor=actor, org=org, target=cadre, before=before,
                 reason=(reason or "").strip())
    cadre.delete()


# --- export -------------------------------------------------------------------------------------------


def member_export(*, actor: Actor, org: Org, query) -> tuple[bytes, int]:
    """The .xlsx of the member list the actor sees for org (any admin of org or above); audited, because
    the file carries personal data out of the system.

    The rows are read outside any transaction: on SQLite every transaction begins IMMEDIATE and takes the one
    writer lock, which a large export would hold for its whole run, blocking every other write (login audit
    entries included). Only the audit entry is written in a (short) transaction.
    """
    from .export import export_members

    if not actor.administers(org):
        raise MemberError(_("You may not export the members of this organization."))
    content, count = export_members(actor=actor, org=org, query=query)
    with transaction.atomic():
        record(action="member.export", actor=actor, org=org, target=org,
               after={"rows": count, "filters": query.as_params()})
    return content, count
