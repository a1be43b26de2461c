"""Writing and reading messages. notify() is called by the service that makes the event, inside its
transaction, so a message exists exactly when its event does."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Message, MessageKind

__all__ = ["Message", "MessageKind", "message_mark_read", "messages_mark_all_read", "notify"]


def notify(
    *, recipient: Any = None, org: Any = None, kind: str, text: str, params: dict | None = None, link: str = "",
) -> Message:
    """One message to a person (recipient) or to whoever acts for an org (org), never both.

    text is the English source sentence, marked with gettext_noop by the caller, with %(name)s
    placeholders filled from params when shown.
    """
    if (recipient is None) == (org is None):
        raise ValueError("a message goes to a person or to an org, exactly one of them")
    if kind not in MessageKind.values:
        raise ValueError(f"unknown message kind {kind!r}")
    return Message.objects.create(
        recipient=recipient, org=org, kind=kind, text=str(text)[:300], params=params or {}, link=link[:300],
    )


def addressed_to(actor: Any) -> Q:
    """The messages an actor reads: their own, and their acting org's (none of another org's)."""
    q = Q(recipient_id=getattr(actor.person, "pk", None))
    org = getattr(actor, "org", None)
    if org is not None:
        q |= Q(org_id=org.pk)
    return q


@transaction.atomic
def message_mark_read(*, actor: Any, message_id: Any) -> Message | None:
    """Mark one of the actor's messages read; None when it is not theirs (or does not exist)."""
    try:
        pk = int(message_id)
    except (TypeError, ValueError):
        return None
    message = Message.objects.select_for_update().filter(addressed_to(actor), pk=pk).first()
    if message is not None and message.read_at is None:
        message.read_at, message.read_by = timezone.now(), actor.person
        message.save(update_fields=["read_at", "read_by"])
    return message


@transaction.atomic
def messages_mark_all_read(*, actor: Any) -> int:
    """Mark every unread message of the actor read; returns how many."""
    return Message.objects.filter(addressed_to(actor), read_at__isnull=True).update(
        read_at=timezone.now(), read_by=actor.person
    )
