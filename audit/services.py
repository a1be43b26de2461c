"""Writing the audit trail. Call record() inside the service's transaction, beside the change itself."""

from typing import Any

from django.db import models

from .models import AuditEntry


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
        target_repr=str(target)[:200] if target is not None else "",
        before=before,
        after=after,
        reason=reason,
        ip=ip,
    )
