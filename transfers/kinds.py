"""The transfers' kinds on the approvals engine: the decision goes through the one inbox, the hooks keep
the Transfer row's own state machine in step (apply on approval, close on reject/withdraw/expiry)."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from approvals.kinds import Kind, register

from . import services
from .models import Transfer


def _current(transfer: Any) -> dict:
    # Stale when the member is no longer in the branch the transfer started from. The engine hands a
    # freshly loaded transfer when deciding; the inbox preloads the member.
    return {"branch": transfer.member.branch_id}


def _render(request: Any, field: str, value: Any) -> str:
    names = (request.payload or {}).get("names", {})
    return names.get(str(value)) or ("—" if value is None else f"#{value}")


def _org_of(transfer: Any) -> Any:
    return transfer.source_branch


def register_kinds() -> None:
    common = dict(
        model=Transfer, apply=services.apply_decision, current_values=_current, org_of=_org_of,
        allowed_fields=frozenset({"branch"}), render_value=_render, field_labels={"branch": _("Organization")},
        may_withdraw=services.may_withdraw, on_close=services.close_by_request,
        select_related=("member", "source_branch"),
    )
    # Decided by a branch: its admin or its direct superior admin (transfer in; transfer out to a branch).
    register(Kind(code=services.KIND_TO_BRANCH, label=_("Relationship transfer"), superior_may_decide=True, **common))
    # Decided by a committee, work committee or general branch: its own admin, who then allocates a branch.
    register(Kind(code=services.KIND_TO_ORG, label=_("Relationship transfer (to be allocated)"), **common))


def _allocation_items(actor: Any) -> list:
    from django.urls import reverse

    from approvals.worklist import TaskItem

    from .selectors import allocation_tasks

    return [
        TaskItem(
            label=_("Allocate a branch"), subject=str(t.member.person),
            detail=_("Transfer from %(source)s approved by %(target)s") % {
                "source": t.source_branch.short_name, "target": t.target_org.short_name},
            link=reverse("transfer_detail", args=[t.pk]), action=_("Allocate"), since=t.decided_at,
        )
        for t in allocation_tasks(actor).order_by("-decided_at", "-id")
    ]


def register_task_sources() -> None:
    """分配团支部 waits in the approvals inbox of the org that approved the transfer, and counts in its badge."""
    from approvals.worklist import TaskSource, register_task_source

    from .selectors import allocation_tasks

    register_task_source(TaskSource(code="transfer_allocation", pending=allocation_tasks, items=_allocation_items))
