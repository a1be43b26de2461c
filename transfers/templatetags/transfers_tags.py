"""Template tags for other apps' pages: a member's transfer history and their "in transfer" state."""

from django import template

from .. import selectors
from ..models import Transfer

register = template.Library()


@register.simple_tag
def member_transfer_history(member) -> list[Transfer]:
    """Every transfer of the member, newest first (used by transfers/_history.html)."""
    if member is None:
        return []
    return selectors.member_transfer_history(member)


@register.simple_tag
def member_in_transfer(member) -> bool:
    return member is not None and selectors.member_in_transfer(member)
