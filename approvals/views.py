"""Pages of the approvals app: the inbox, one request, the requester's own requests, the admin change,
and the audit trail. Views parse input, call one service or selector, and render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from orgs.permissions import require

from . import selectors, services
from .forms import AuditFilterForm, BulkDecisionForm, DecisionForm
from .worklist import task_items

PAGE_SIZE = 50


def _page(request: HttpRequest, qs, size: int = PAGE_SIZE):
    return Paginator(qs, size).get_page(request.GET.get("page"))


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    require(actor.org is not None)
    decided = request.GET.get("tab") == "decided"
    if request.method == "POST":
        decidable = selectors.decidable_ids(actor, request.POST.getlist("requests"))
        form = BulkDecisionForm(request.POST, request_ids=decidable)
        if form.is_valid():
            results = services.requests_decide_many(
                request_ids=form.cleaned_data["requests"], actor=actor, approve=form.approve,
                reason=form.cleaned_data["reason"],
            )
            done = [r for r in results if r.ok]
            if done:
                text = _("Approved %(n)d request(s).") if form.approve else _("Rejected %(n)d request(s).")
                messages.success(request, text % {"n": len(done)})
            for r in results:
                if not r.ok:
                    messages.error(request, _("Request #%(id)s: %(msg)s") % {"id": r.request_id, "msg": r.message})
            return redirect("inbox")
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("inbox")
    page = _page(request, selectors.inbox_requests(actor, decided=decided))
    rows = selectors.request_rows(actor, list(page.object_list), check_stale=not decided)
    return render(request, "approvals/inbox.html", {
        "page": page, "rows": rows, "decided": decided,
        "form": DecisionForm(), "tasks": [] if decided else task_items(actor),
    })


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    req = selectors.get_request_for(actor, pk)
    # Whole values only for the requester and those who decide (they may edit the record at once).
    whole = req.requested_by_id == request.user.pk or selectors.may_decide(actor, req)
    row = selectors.request_rows(actor, [req], mask=not whole)[0]
    return render(request, "approvals/request_detail.html", {
        "req": req, "row": row, "form": DecisionForm(),
        "may_withdraw": req.is_pending and selectors.may_withdraw(actor, req),
    })


@login_required
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    req = selectors.get_request_for(actor, pk)
    require(selectors.may_decide(actor, req))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        row = selectors.request_rows(actor, [req], mask=False)[0]
        return render(request, "approvals/request_detail.html", {
            "req": req, "row": row, "form": form, "may_withdraw": False,
        }, status=400)
    try:
        if form.approve:
            services.request_approve(request_id=req.pk, actor=actor, note=form.cleaned_data["reason"])
            messages.success(request, _("Request approved; the change is in effect."))
        else:
            services.request_reject(request_id=req.pk, actor=actor, reason=form.cleaned_data["reason"])
            messages.success(request, _("Request rejected."))
    except services.ApprovalError as exc:
        messages.error(request, str(exc))
    return redirect("request_detail", pk=req.pk)


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    page = _page(request, selectors.my_requests(request.user))
    # The requester's own requests: their own data, shown whole.
    rows = selectors.request_rows(request.actor, list(page.object_list), check_stale=False, mask=False)
    return render(request, "approvals/my_requests.html", {"page": page, "rows": rows})


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    req = selectors.get_request_for(actor, pk)
    require(selectors.may_withdraw(actor, req))
    try:
        services.request_withdraw(request_id=req.pk, actor=actor)
    except services.ApprovalError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Request withdrawn."))
    return redirect("my_requests")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    require(actor.org is not None)
    form = AuditFilterForm(request.GET or None, actions=selectors.audit_actions())
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.audit_entries(
        actor, action=filters.get("action") or "", date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = _page(request, qs)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "approvals/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})
