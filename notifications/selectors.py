"""Reading an actor's messages: the list newest first and the header's unread count."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import Message
from .services import addressed_to


def messages_for(actor: Any) -> QuerySet[Message]:
    if not getattr(actor.person, "pk", None):
        return Message.objects.none()
    return Message.objects.filter(addressed_to(actor)).order_by("-created_at", "-id")


def unread_count(actor: Any) -> int:
    """One COUNT query."""
    if not getattr(actor.person, "pk", None):
        return 0
    return Message.objects.filter(addressed_to(actor), read_at__isnull=True).count()
