"""Whether members are in a relationship transfer, and a member's transfer history: questions the people
layer asks and the transfers app (above it) answers. TransfersConfig.ready() registers the answers, so
members and imports never import transfers (see docs/architecture.md). Without the transfers app nobody is
in transfer and nobody has a history.
"""

from collections.abc import Callable, Iterable
from typing import Any

_lookup: Callable[[list[int]], set[int]] | None = None
_history: Callable[[Any], list] | None = None


def register_lookup(lookup: Callable[[list[int]], set[int]]) -> None:
    """lookup(member ids) -> the ids with an open transfer, in one query."""
    global _lookup
    _lookup = lookup


def members_in_transfer_ids(ids: Iterable[int]) -> set[int]:
    """The subset of these member ids that have an open transfer (one query, for lists and imports)."""
    ids = list(ids)
    if not ids or _lookup is None:
        return set()
    return _lookup(ids)


def member_in_transfer(member: Any) -> bool:
    """True while the member has an open transfer: they may not be moved, deleted or imported elsewhere."""
    member_id = getattr(member, "pk", member)
    return member_id in members_in_transfer_ids([member_id])


def register_history(history: Callable[[Any], list]) -> None:
    """history(member) -> the member's transfers, newest first (rendered by transfers/_history.html)."""
    global _history
    _history = history


def transfer_history(member: Any) -> list:
    """Every transfer of the member, newest first; for the views that show transfers/_history.html."""
    if member is None or _history is None:
        return []
    return _history(member)
