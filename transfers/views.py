"""Pages of the transfers app: lists per org, transfer in, transfer out (with the org search), one transfer's
progress, and its decisions (approve, reject, withdraw, allocate). Views parse input, call one service or
selector, and render; services decide and refuse."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from approvals.kinds import ApprovalError
from approvals.selectors import is_own_request, may_decide, other_deciders
from members.models import Member
from orgs.models import Category, Org
from orgs.permissions import require

from . import selectors, services
from .forms import AllocateForm, ApproveForm, RejectForm, TransferInForm, TransferOutForm
from .models import Status

PAGE_SIZE = 50
MEMBER_CHOICES = 300  # members offered at once on the transfer-out form; a name search narrows them
TABS = ("incoming", "outgoing", "allocation")


def _require_admin(request: HttpRequest) -> None:
    # Members without an admin role have no transfer pages (their history is on their own record).
    require(request.actor.org is not None)


@login_required
@require_GET
def transfer_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    actor = request.actor
    allocation_count = selectors.allocation_tasks(actor).count()
    # An allocation task is work waiting for this admin: open on it unless another tab was asked for.
    tab = request.GET.get("tab") or ("allocation" if allocation_count else "incoming")
    if tab not in TABS:
        tab = "incoming"
    qs = {
        "incoming": selectors.incoming_transfers,
        "outgoing": selectors.outgoing_transfers,
        "allocation": selectors.allocation_tasks,
    }[tab](actor)
    status = request.GET.get("status", "")
    if status in Status.values:
        qs = qs.filter(status=status)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "transfers/list.html", {
        "page": page, "tab": tab, "status": status, "statuses": Status.choices,
        "allocation_count": allocation_count,
    })


def _subtree_branches(actor) -> object:
    return actor.org.get_descendants(include_self=True).filter(type__category=Category.BRANCH).order_by("lft")


@login_required
def transfer_in(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    actor = request.actor
    form = TransferInForm(request.POST or None, branches=_subtree_branches(actor))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.transfer_in_submit(
                actor=actor, target_branch=data["target_branch"], name=data["name"], id_number=data["id_number"],
                reason=data["reason"], reason_text=data["reason_text"],
            )
        except ApprovalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Transfer submitted; it waits for the member's current branch to decide."))
            return redirect("transfer_detail", pk=transfer.pk)
    return render(request, "transfers/transfer_in.html", {"form": form})


@login_required
def transfer_out(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    actor = request.actor
    members = (
        Member.objects.filter(branch__in=_subtree_branches(actor), status="active")
        .select_related("person", "branch").order_by("branch__lft", "person__name")
    )
    initial = {}
    if request.method == "GET" and str(request.GET.get("member", "")).isdigit():
        initial["member"] = int(request.GET["member"])
    form = TransferOutForm(request.POST or None, members=members, initial=initial)
    query = " ".join(request.GET.get("q", "").split())[:64]
    chosen = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transfer = services.transfer_out_submit(
                actor=actor, member_id=data["member"].pk, target_org_id=data["target_org"],
                reason=data["reason"], reason_text=data["reason_text"], expected_branch_id=data["member"].branch_id,
            )
        except ApprovalError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Transfer submitted; it waits for the target organization to decide."))
            return redirect("transfer_detail", pk=transfer.pk)
    if form.is_bound and str(request.POST.get("target_org", "")).isdigit():
        chosen = Org.objects.filter(pk=int(request.POST["target_org"])).only("short_name", "code").first()
    # Validation used the whole subtree; the page offers a bounded list (a branch may have 10,000 members).
    posted = request.POST.get("member", "") if form.is_bound else str(initial.get("member", ""))
    # Members already in a transfer are not offered (the service still refuses one posted meanwhile).
    offered = selectors.without_open_transfer(members)
    if posted.isdigit():
        shown = (members if form.is_bound else offered).filter(pk=int(posted))
    elif query:
        shown = offered.filter(person__name__icontains=query)
    else:
        shown = offered
    total = shown.count()
    form.fields["member"].queryset = shown[:MEMBER_CHOICES]
    return render(request, "transfers/transfer_out.html", {
        "form": form, "chosen": chosen, "query": query, "truncated": total > MEMBER_CHOICES, "total": total,
    })


@login_required
@require_GET
def org_search(request: HttpRequest) -> HttpResponse:
    """Orgs of the whole tree by name or code: names, codes and paths only, never people."""
    _require_admin(request)
    limit = selectors.ORG_SEARCH_LIMIT
    results = selectors.search_orgs(request.GET.get("q", ""), limit=limit)
    # "limited": the list was cut at the limit, so the page asks for a more precise name or code.
    return JsonResponse({"results": results, "limited": len(results) >= limit})


@login_required
@require_GET
def transfer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    transfer = selectors.get_transfer_for(actor, pk)
    req = transfer.request
    allocate_form = None
    if transfer.status == Status.APPROVED and actor.is_admin_of(transfer.target_org):
        allocate_form = AllocateForm(branches=selectors.allocatable_branches(transfer.target_org).exclude(
            pk=transfer.source_branch_id))
    own_request = req is not None and req.is_pending and is_own_request(actor, req)
    return render(request, "transfers/detail.html", {
        "transfer": transfer,
        "may_decide": req is not None and req.is_pending and may_decide(actor, req),
        "own_request": own_request, "waits_for": other_deciders(actor, req) if own_request else "",
        "may_withdraw": transfer.status == Status.PENDING and services.may_withdraw_transfer(actor, transfer),
        "allocate_form": allocate_form,
        "approve_form": ApproveForm(), "reject_form": RejectForm(),
    })


def _run(request: HttpRequest, pk: int, done: str, call) -> HttpResponse:
    try:
        call()
    except ApprovalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
    return redirect("transfer_detail", pk=pk)


@login_required
@require_POST
def transfer_approve(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    transfer = selectors.get_transfer_for(actor, pk)
    require(transfer.request is not None and may_decide(actor, transfer.request))
    form = ApproveForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _run(request, transfer.pk, _("Transfer approved."),
                lambda: services.transfer_approve(transfer_id=transfer.pk, actor=actor, note=note))


@login_required
@require_POST
def transfer_reject(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    transfer = selectors.get_transfer_for(actor, pk)
    require(transfer.request is not None and may_decide(actor, transfer.request))
    form = RejectForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason for the rejection."))
        return redirect("transfer_detail", pk=transfer.pk)
    return _run(request, transfer.pk, _("Transfer rejected."), lambda: services.transfer_reject(
        transfer_id=transfer.pk, actor=actor, reason=form.cleaned_data["reason"]))


@login_required
@require_POST
def transfer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    transfer = selectors.get_transfer_for(actor, pk)
    require(services.may_withdraw_transfer(actor, transfer))
    return _run(request, transfer.pk, _("Transfer withdrawn."),
                lambda: services.transfer_withdraw(transfer_id=transfer.pk, actor=actor))


@login_required
@require_POST
def transfer_allocate(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    transfer = selectors.get_transfer_for(actor, pk)
    require(actor.is_admin_of(transfer.target_org))
    form = AllocateForm(request.POST, branches=selectors.allocatable_branches(transfer.target_org))
    if not form.is_valid():
        messages.error(request, _("Choose a branch within %(org)s.") % {"org": transfer.target_org.short_name})
        return redirect("transfer_detail", pk=transfer.pk)
    branch = form.cleaned_data["branch"]
    return _run(request, transfer.pk, _("Member allocated to %(org)s.") % {"org": branch.short_name},
                lambda: services.transfer_allocate(transfer_id=transfer.pk, actor=actor, branch_id=branch.pk))
