"""What a member's home page shows: their record, their latest requests, transfers and messages."""

from dataclasses import dataclass
from typing import Any

from approvals.selectors import my_requests
from members.models import Member
from notifications.selectors import messages_for
from transfers.selectors import member_transfer_history

HOME_ITEMS = 5


@dataclass
class MemberHome:
    member: Member | None
    requests: list
    messages: list
    transfer_history: list


def member_home(actor: Any) -> MemberHome:
    person = actor.person
    member = Member.objects.select_related("branch__parent").filter(person=person).first()
    return MemberHome(
        member=member,
        requests=list(my_requests(person)[:HOME_ITEMS]),
        messages=list(messages_for(actor)[:HOME_ITEMS]),
        transfer_history=member_transfer_history(member) if member else [],
    )
