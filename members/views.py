"""Pages of member and cadre records: the member list (search, filters, sort, pages, export), a member's
detail, add and admin edit, the member's own record and their edit request, and the cadre list.

Views parse input, ask orgs.permissions who may act, call one service or selector and render. Orgs outside
the actor's subtree and members the actor may not see are 404; what the actor may see but not change is 403.
"""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orgs.permissions import Actor, get_org_for, require, sees_personal_data_whole

from . import selectors, services
from .choices import MemberStatus, PoliticalStatus
from .forms import CadreForm, CadreRemoveForm, MemberEditForm, MemberForm, SelfEditForm, StatusForm
from .in_transfer import member_in_transfer, transfer_history
from .models import Cadre, Member
from .rules import MemberInput
from .services import EDITABLE_FIELDS, SELF_EDITABLE_FIELDS, MemberError


def _member_for(actor: Actor, pk: int) -> Member:
    """A member record the actor may see (their own, or one of a branch in their subtree); 404 otherwise.

    Access follows the record, not the person: a cadre post in the actor's subtree opens nothing of a
    membership held elsewhere."""
    member = selectors.member_for_detail(pk)
    if member is None:
        raise Http404
    if member.person_id != getattr(actor.person, "pk", None) and not actor.administers(member.branch):
        raise Http404
    return member


def _initial(member: Member, fields=EDITABLE_FIELDS) -> dict:
    data = MemberInput.from_member(member)
    return {f: getattr(data, f) for f in fields}


# Four or more digits: part of an ID number or a phone.
LONG_DIGITS = re.compile(r"\d{4}")


@login_required
@require_GET
def member_list(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    query = selectors.MemberQuery.from_params(request.GET)
    page = selectors.member_page(org, query, actor=actor)
    htmx = request.headers.get("HX-Request") == "true"
    response = render(request, "members/_member_rows.html" if htmx else "members/list.html", {
        "oob": htmx,  # a filtered htmx response also refreshes the total and the export link's filters
        "org": org,
        "page": page,
        "query": query,
        "may_add": org.is_branch and services.may_manage_members(actor, org),
        "statuses": MemberStatus.choices,
        "political_statuses": PoliticalStatus.choices,
        "sorts": [("name", _("Name")), ("joined", _("Join date")), ("-joined", _("Join date, newest first")),
                  ("age", _("Age, youngest first")), ("-age", _("Age, oldest first"))],
        "qs_base": query.as_params(),
    })
    if htmx and LONG_DIGITS.search(query.q):
        # A search by ID number or phone stays out of the browser's history and address bar (PIPL).
        response["HX-Push-Url"] = "false"
    return response


@login_required
@require_GET
def member_export(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    query = selectors.MemberQuery.from_params(request.GET)
    try:
        content, _count = services.member_export(actor=actor, org=org, query=query)
    except MemberError as exc:
        messages.error(request, exc.message)
        return redirect("member_list", pk=org.pk)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    # Named in the reader's language; the "personal data" words warn whoever finds the file later (PIPL).
    name = _("%(org)s-members-%(stamp)s-personal-data.xlsx") % {"org": org.short_name, "stamp": stamp}
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(org.is_branch and services.may_manage_members(actor, org))
    form = MemberForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        form.add_rule_errors()
    elif request.method == "POST":
        try:
            member = services.member_add(actor=actor, branch=org, data=form.to_input())
        except MemberError as exc:
            form.apply_errors(exc.errors or {None: exc.message})
        else:
            messages.success(request, _("%(name)s was added to %(org)s.") % {"name": member.person.name,
                                                                              "org": org.short_name})
            return redirect("member_detail", pk=member.pk)
    return render(request, "members/add.html", {"org": org, "form": form})


@login_required
@require_GET
def member_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = _member_for(actor, pk)
    may_edit = services.may_manage_members(actor, member.branch)
    show_whole = sees_personal_data_whole(actor, member.branch)  # by the record's branch, as the list and export
    if member.person_id == request.user.pk and not show_whole:
        return redirect("my_record")
    in_transfer = member_in_transfer(member)
    return render(request, "members/detail.html", {
        "member": member,
        "person": member.person,
        "may_edit": may_edit,
        "show_whole": show_whole,
        "is_self": member.person_id == request.user.pk,
        "cadre_posts": selectors.cadre_posts_of(member.person),
        # The service refuses status changes during a transfer; the page does not offer one.
        "status_form": StatusForm(initial={"status": member.status}) if may_edit and not in_transfer else None,
        "in_transfer": in_transfer,
        "transfer_history": transfer_history(member),
        "age": selectors.age_on(member.person.birth_date),
    })


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = _member_for(actor, pk)
    require(services.may_manage_members(actor, member.branch))
    initial = _initial(member)
    form = MemberEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_update(actor=actor, member=member, changes=form.changes(initial),
                                   reason=form.cleaned_data.get("reason", ""))
        except MemberError as exc:
            form.apply_errors(exc.errors or {None: exc.message})
        else:
            messages.success(request, _("The record was saved."))
            return redirect("member_detail", pk=member.pk)
    return render(request, "members/edit.html", {"member": member, "form": form})


@login_required
@require_POST
def member_set_status(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    member = _member_for(actor, pk)
    require(services.may_manage_members(actor, member.branch))
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.member_set_status(actor=actor, member=member, status=form.cleaned_data["status"],
                                       reason=form.cleaned_data["reason"], confirmed=form.cleaned_data["confirm"])
        except MemberError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The status was changed."))
    else:
        messages.error(request, _("Choose a status."))
    return redirect("member_detail", pk=member.pk)


def _own_member(request: HttpRequest) -> Member | None:
    return Member.objects.select_related("person", "branch__parent").filter(person=request.user).first()


@login_required
@require_GET
def my_record(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    requests = selectors.personal_info_requests(member) if member else []
    pending = next((r for r in requests if r.status == "pending"), None)
    last_decided = next((r for r in requests if r.status != "pending"), None)
    return render(request, "members/my_record.html", {
        "member": member,
        "person": request.user,
        "cadre_posts": selectors.cadre_posts_of(request.user),
        "pending": pending,
        "pending_changes": selectors.describe_changes(pending) if pending else [],
        "last_decided": last_decided,
        "transfer_history": transfer_history(member),
        "age": selectors.age_on(request.user.birth_date),
    })


@login_required
@require_http_methods(["GET", "POST"])
def my_record_edit(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    if member is None:
        raise Http404
    requests = selectors.personal_info_requests(member)
    pending = next((r for r in requests if r.status == "pending"), None)
    last_decided = next((r for r in requests if r.status != "pending"), None)
    initial = _initial(member, SELF_EDITABLE_FIELDS)
    form = SelfEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and pending is None and form.is_valid():
        try:
            services.personal_info_request(actor=request.actor, member=member, changes=form.changes(initial))
        except MemberError as exc:
            form.apply_errors(exc.errors or {None: exc.message})
        else:
            messages.success(request, _("Your change was sent to your branch for approval."))
            return redirect("my_record")
    elif request.method == "POST" and pending is not None:
        form.add_error(None, _("You already have a change waiting for approval."))
    return render(request, "members/my_record_edit.html", {
        "member": member, "form": form, "pending": pending, "last_decided": last_decided,
        "pending_changes": selectors.describe_changes(pending) if pending else [],
    })


@login_required
@require_GET
def cadre_list(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    return render(request, "members/cadres.html", {
        "org": org,
        "cadres": selectors.cadres_of(org),
        "may_manage": services.may_manage_cadres(actor, org),
    })


@login_required
@require_http_methods(["GET", "POST"])
def cadre_add(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(services.may_manage_cadres(actor, org))
    form = CadreForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.cadre_add(actor=actor, org=org, person_data=form.to_input(), position=data["position"],
                               since=data["since"], nature=data["nature"])
        except MemberError as exc:
            form.apply_errors(exc.errors or {None: exc.message})
        else:
            messages.success(request, _("%(name)s now holds the post %(position)s.") % {
                "name": data["name"], "position": data["position"]})
            return redirect("cadre_list", pk=org.pk)
    return render(request, "members/cadre_add.html", {"org": org, "form": form})


@login_required
@require_POST
def cadre_remove(request: HttpRequest, pk: int, cadre_pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(services.may_manage_cadres(actor, org))
    cadre = Cadre.objects.filter(pk=cadre_pk, org=org).first()
    if cadre is None:
        raise Http404
    form = CadreRemoveForm(request.POST)
    form.is_valid()
    try:
        services.cadre_remove(actor=actor, cadre=cadre, reason=form.cleaned_data.get("reason", ""))
    except MemberError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The post was ended."))
    return redirect("cadre_list", pk=org.pk)
