"""Template context for the header: the number of requests waiting in the acting org's inbox."""

from typing import Any

from django.http import HttpRequest

from .selectors import inbox_count


class _LazyCount:
    """Counted once, and only when a template shows it (one COUNT query)."""

    def __init__(self, actor: Any) -> None:
        self._actor = actor
        self._value: int | None = None

    def __call__(self) -> int:
        if self._value is None:
            self._value = inbox_count(self._actor)
        return self._value


def inbox(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None or actor.org is None:
        return {"inbox_count": 0}
    return {"inbox_count": _LazyCount(actor)}
