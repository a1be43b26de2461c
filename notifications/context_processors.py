"""Template context for the header: the number of unread messages (one COUNT, only when shown)."""

from typing import Any

from django.http import HttpRequest


class _LazyUnread:
    def __init__(self, actor: Any) -> None:
        self._actor = actor
        self._value: int | None = None

    def __call__(self) -> int:
        if self._value is None:
            from .selectors import unread_count

            self._value = unread_count(self._actor)
        return self._value


def unread(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None or not getattr(actor.person, "is_authenticated", False):
        return {"unread_messages": 0}
    return {"unread_messages": _LazyUnread(actor)}
