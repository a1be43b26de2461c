"""The secretary form: after registering, an org's admin sets its contacts and names its secretary.

The secretary's identity goes through the pluggable verifier in members.verification; when it fails, a
deputy may stand in for now (Org.secretary_is_deputy).
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import record
from members import idnumber
from members.choices import Position
from members.models import Cadre, Person
from members.verification import verify_identity

from .codes import CodeError
from .models import Org
from .permissions import Actor, controls_person


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
    number = _verified_number(secretary_name, secretary_id_number, secretary_phone, as_deputy=as_deputy)
    person = _secretary_person(actor, org, name=secretary_name, number=number, phone=secretary_phone)
    before = {
        "contact_phone": org.contact_phone, "contact_email": org.contact_email,
        "secretary_id": org.secretary_id, "secretary_is_deputy": org.secretary_is_deputy,
    }
    ended = _move_secretary_post(org, person, as_deputy=as_deputy)
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


def _verified_number(name: str, id_number: str, phone: str, *, as_deputy: bool) -> str:
    """The normalised ID number once the verifier accepts the person; CodeError says why it did not."""
    try:
        number = idnumber.parse(id_number).number
    except ValidationError as exc:
        raise CodeError(" ".join(exc.messages), field="secretary_id_number") from None
    verification = verify_identity(name=name, id_number=number, phone=phone)
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
    return number


def _secretary_person(actor: Actor, org: Org, *, name: str, number: str, phone: str) -> Person:
    """The person to name, locked: created when new (not for a branch, whose secretary is a member), else one
    the admin may name whose name matches."""
    person = Person.objects.select_for_update().filter(id_number=number).first()
    if person is None and org.is_branch:
        raise CodeError(_secretary_refused(org), field="secretary_id_number")
    if person is None:
        person = Person.objects.create_user(number, name, password=None, phone=phone)
        record(action="person.create", actor=actor, org=org, target=person,
               after={"name": person.name, "reason": "secretary"})
    else:
        if not _may_name_secretary(actor, org, person):
            # One sentence whatever the name, so an ID number held elsewhere confirms nothing about its holder.
            raise CodeError(_secretary_refused(org), field="secretary_id_number")
        if person.name != name:
            raise CodeError(_("The name does not match our record for this ID number."), field="secretary_name")
        if phone and not person.phone:
            person.phone = phone
            person.save(update_fields=["phone", "updated_at"])
    return person


def _move_secretary_post(org: Org, person: Person, *, as_deputy: bool) -> list[int]:
    """The 书记 post follows Org.secretary: a new secretary (or a deputy standing in) ends the old post.

    Returns the ids of the people whose 书记 post ended."""
    today = timezone.localdate()
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
    return ended
