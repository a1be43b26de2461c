"""Template filters for approvals pages: audit actions and before/after values in people's words."""

from typing import Any

from django import template
from django.utils.translation import gettext_lazy as _

from audit.personal_data import is_personal, mask_value
from audit.services import mask_text

from ..kinds import KINDS

register = template.Library()

_REQUEST_VERBS = {
    "submitted": _("Request submitted"),
    "approved": _("Request approved"),
    "rejected": _("Request rejected"),
    "withdrawn": _("Request withdrawn"),
    "expired": _("Request expired"),
}


# Every action code the services write, in people's words; an unknown code is shown as it is.
_ACTIONS = {
    "member.add": _("Member added"),
    "member.update": _("Member record edited"),
    "member.status": _("Member status changed"),
    "member.export": _("Member list exported"),
    "cadre.add": _("Cadre post given"),
    "cadre.remove": _("Cadre post ended"),
    "person.create": _("Person record created"),
    "org.create": _("Organization created"),
    "org.update": _("Organization information edited"),
    "org.move": _("Organization moved"),
    "org.delete": _("Organization deleted"),
    "org.complete": _("Organization information completed"),
    "org.admin_changed": _("Admin changed"),
    "admin.register": _("Admin registered with a code"),
    "code.issue": _("Registration code issued"),
    "import.finished": _("Import finished"),
    "import.retry": _("Import run again"),
    "login.succeeded": _("Logged in"),
    "login.failed": _("Login failed"),
    "login.locked": _("Account locked"),
    "login.refused_locked": _("Login refused: account locked"),
    "login.unlocked": _("Account unlocked"),
    "logout": _("Logged out"),
    "password.set": _("Password set"),
    "password.changed": _("Password changed"),
    "password.change_failed": _("Password change failed"),
    "password.reset": _("Password reset"),
    "reset_code.issued": _("Reset code issued"),
    "reset_code.used": _("Reset code used"),
    "reset_code.failed": _("Reset code refused"),
    "transfer.submit_out": _("Transfer out submitted"),
    "transfer.submit_in": _("Transfer in submitted"),
    "transfer.approve": _("Transfer approved"),
    "transfer.rejected": _("Transfer rejected"),
    "transfer.withdrawn": _("Transfer withdrawn"),
    "transfer.expired": _("Transfer expired"),
    "transfer.allocate": _("Transfer allocated to a branch"),
    "transfer.allocation_expired": _("Transfer allocation expired"),
}

# Keys of the before/after values, in people's words (the trail is read by admins, not developers).
_FIELDS = {
    "name": _("Name"), "id_number": _("ID number"), "phone": _("Mobile phone"), "email": _("Email"),
    "ethnicity": _("Ethnicity"), "political_status": _("Political status"), "joined_on": _("Join date"),
    "development_number": _("Development number"), "education": _("Education"), "occupation": _("Occupation"),
    "status": _("Status"), "position": _("Position"), "nature": _("Nature"), "since": _("In post since"),
    "person": _("Person"), "code": _("Organization code"), "short_name": _("Short name"),
    "full_name": _("Full name"), "type": _("Type"), "parent": _("Superior organization"),
    "contact_phone": _("Contact phone"), "contact_email": _("Contact email"), "admin": _("Admin"),
    "reason": _("Reason"), "rows": _("Rows"), "file": _("File"), "first_password": _("First password"),
    "imported": _("Imported"), "failed": _("Failed"), "kind": _("Kind"), "filters": _("Filters"),
    "source_branch": _("Source branch"), "target_org": _("Target organization"),
    "allocated_branch": _("Allocated branch"), "member": _("Member"),
}


@register.filter
def action_label(action: str) -> str:
    """`request.<verb>.<kind>` as "<verb> · <kind label>", known actions in words; others keep their code."""
    parts = (action or "").split(".")
    if len(parts) == 3 and parts[0] == "request" and parts[1] in _REQUEST_VERBS:
        kind = KINDS.get(parts[2])
        return f"{_REQUEST_VERBS[parts[1]]} · {kind.label if kind else parts[2]}"
    label = _ACTIONS.get(action)
    return str(label) if label is not None else action


LIST_SHOWN = 10


def _audit_mask(key: str | None, value: str) -> str | None:
    # The audit page is a list read by every admin above: every contact is masked there, to everyone (PIPL),
    # as the member list masks them; an org's contacts too, as they are often a person's own.
    if key is not None and is_personal(key):
        return mask_value(key, value)
    if key in ("contact_phone", "contact_email"):
        return mask_value(key.removeprefix("contact_"), value)
    return None


def _masked_deep(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _masked_deep(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked_deep(key, v) for v in value]
    if isinstance(value, str) and value:
        masked = _audit_mask(key, value) if "*" not in value else None
        # mask_text: entries written before record() masked numbers inside any text.
        return masked if masked is not None else mask_text(value)
    return value


def _shown(key: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, list | dict) and len(value) > LIST_SHOWN:
        # An import batch lists up to 2,000 people: the page shows how many, the entry keeps them all.
        return str(_("%(n)s items") % {"n": len(value)})
    return str(_masked_deep(key, value))


@register.filter
def kv(value: Any) -> str:
    """A before/after value as `key: value; …` (dicts), phone and ID numbers masked, or as it is."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{_FIELDS.get(k, k)}: {_shown(k, v)}" for k, v in value.items())
    return mask_text(str(value))


@register.filter
def masked(value: Any) -> str:
    """Free text (a reason, an object's name) with any whole ID number or phone masked."""
    return mask_text(str(value)) if value not in (None, "") else ""
