"""Writing the audit trail. Call record() inside the service's transaction, beside the change itself.

Entries never hold a whole ID number or phone (PIPL): record() masks them wherever they appear in before,
after and the reason — under their own keys and inside any other text (a search term, a note) — so a call
that forgets cannot store them. The person is referred to by the entry's target (its pk)."""

import re
from typing import Any

from django.db import models

from .models import AuditEntry

# An 18-character resident ID number and an 11-digit mainland mobile number, not inside longer digit runs.
WHOLE_ID_NUMBER = re.compile(r"(?<![0-9])([0-9]{6})[0-9]{8}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
WHOLE_PHONE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
_MASKED_KEYS = {"id_number", "phone"}


def mask_text(text: str) -> str:
    """The text with every whole ID number (110101********123X) and mobile number (139****5678) masked."""
    text = WHOLE_ID_NUMBER.sub(lambda m: m[1] + "*" * 8 + m[2], text)
    return WHOLE_PHONE.sub(lambda m: m[1] + "****" + m[2], text)


def _mask_value(key: str | None, value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _mask_value(k, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_mask_value(key, v) for v in value]
    if not isinstance(value, str) or not value:
        return value
    if key in _MASKED_KEYS and "*" not in value:
        # Whatever its shape (a phone typed with spaces, a short number): keep only what the lists show.
        if key == "id_number":
            return value[:6] + "*" * (len(value) - 10) + value[-4:] if len(value) >= 10 else "*" * len(value)
        digits = re.sub(r"\D", "", value)
        return digits[:3] + "****" + digits[7:] if len(digits) >= 11 else "*" * len(value)
    return mask_text(value)


def scrub(data: dict | None) -> dict | None:
    """before/after as stored: whole ID numbers and phones masked at any depth."""
    return None if data is None else _mask_value(None, data)


def record(
    *,
    action: str,
    actor: Any = None,
    org: Any = None,
    target: models.Model | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    ip: str | None = None,
    acting_org: Any = None,
) -> AuditEntry:
    """Append one entry. actor may be a Person or an Actor (person + acting org)."""
    person = getattr(actor, "person", actor)
    if acting_org is None:
        acting_org = getattr(actor, "org", None)
    if ip is None:
        ip = getattr(actor, "ip", None)
    return AuditEntry.objects.create(
        action=action,
        actor=person if getattr(person, "pk", None) else None,
        acting_org=acting_org,
        org=org,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_repr=mask_text(str(target))[:200] if target is not None else "",
        before=scrub(before),
        after=scrub(after),
        reason=mask_text(reason or ""),
        ip=ip,
    )
