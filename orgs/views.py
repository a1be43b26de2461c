"""Pages of the org tree: the tree with search, an org's page, create/import children, edit info, delete.

Views only parse input, ask orgs.permissions who may act, call one service or selector and render.
Objects outside the actor's subtree are 404 (get_org_for); actions the actor may see but not do are 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .forms import OrgBulkCreateForm, OrgCreateForm, OrgEditForm, OrgMoveForm
from .permissions import Actor, get_org_for, manages, may_add_members_to, may_edit_info_at_once, require


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _admin_actor(request: HttpRequest) -> Actor:
    actor = request.actor
    require(actor.org is not None)  # members without an admin role see only themselves
    return actor


@login_required
@require_GET
def org_tree(request: HttpRequest) -> HttpResponse:
    actor = _admin_actor(request)
    query = request.GET.get("q", "").strip()
    hits = selectors.search_orgs(actor, query) if query else None
    if _is_htmx(request) and request.headers.get("HX-Target") == "search-results":
        return render(request, "orgs/_search_results.html", {"query": query, "hits": hits})
    root, children = selectors.org_and_children(actor.org)
    return render(request, "orgs/tree.html", {"root": root, "children": children, "query": query, "hits": hits})


@login_required
@require_GET
def org_children(request: HttpRequest, pk: int) -> HttpResponse:
    org = get_org_for(request.actor, pk)
    return render(request, "orgs/_children.html", {"nodes": selectors.children_with_counts(org)})


@login_required
@require_GET
def org_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    detail = selectors.org_detail(actor, org)
    own = actor.is_admin_of(org)
    return render(request, "orgs/detail.html", {
        "next_steps": selectors.admin_next_steps(detail) if own else None,
        "complete_url": reverse("org_complete", args=[org.pk]) if own else None,
        "org": detail.org,
        "detail": detail,
        "may_create": actor.is_admin_of(org) and not org.is_branch,
        "may_edit": manages(actor, org),
        "may_delete": actor.is_direct_superior_admin_of(org),
        "may_move": services.may_move(actor, org),
        "codes_url": reverse("org_codes", args=[org.pk]) if actor.is_admin_of(org) and not org.is_branch else None,
        "admin_change_url": reverse("admin_change", args=[org.pk])
        if manages(actor, org) else None,
        "members_url": reverse("member_list", args=[org.pk]),
        "may_add_members": may_add_members_to(actor, org),
        "may_add_people": actor.is_admin_of(org) and not org.is_branch,
        "child_import": actor.is_admin_of(org) and not org.is_branch,
        "more_members": max(detail.member_count - len(detail.members), 0) if org.is_branch else 0,
    })


@login_required
@require_GET
def org_add_people(request: HttpRequest, pk: int) -> HttpResponse:
    """添加团员团干部: one entry to add or import members into a child branch and the org's own cadres."""
    actor = request.actor
    org = get_org_for(actor, pk)
    require(actor.is_admin_of(org))
    children = [] if org.is_branch else selectors.children_with_counts(org)
    if org.is_branch:
        branches = [selectors.org_with_count(org.pk)]
    else:
        branches = [c for c in children if may_add_members_to(actor, c)]
    return render(request, "orgs/add_people.html", {
        "org": org, "branches": branches, "import_cadres": not org.is_branch,
        # Lower orgs (a general branch under a work committee) enter their branches' members themselves.
        "lower_orgs": [c for c in children if not c.is_branch],
    })


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    parent = get_org_for(actor, pk)
    require(actor.is_admin_of(parent))  # only the new org's direct superior admin creates it
    form = OrgCreateForm(request.POST or None, parent=parent)
    if request.method == "POST" and form.is_valid():
        try:
            org = services.org_create(actor=actor, parent=parent, **form.cleaned_data)
        except services.OrgError as error:
            error.add_to_form(form)
        else:
            messages.success(request, _("%(org)s was created with the code %(code)s.")
                             % {"org": org.short_name, "code": org.code})
            return redirect("org_detail", pk=org.pk)
    return render(request, "orgs/create.html", {"parent": parent, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def org_bulk_create(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    parent = get_org_for(actor, pk)
    require(actor.is_admin_of(parent))
    form = OrgBulkCreateForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        try:
            result = services.org_bulk_create_from_excel(actor=actor, parent=parent, file=form.cleaned_data["file"])
        except services.OrgError as error:
            form.add_error("file", error.message)
        else:
            if result.created and result.errors:
                # Partly done: say so in a warning, not a success banner, and point at the rows to fix.
                messages.warning(request, _(
                    "%(n)d organizations were created; %(e)d rows were not. Correct those rows (listed below) and "
                    "upload just them again."
                ) % {"n": len(result.created), "e": len(result.errors)})
            elif result.created:
                messages.success(request, _("%(n)d organizations were created.") % {"n": len(result.created)})
            if not result.errors:
                return redirect("org_detail", pk=parent.pk)
    return render(request, "orgs/bulk_create.html", {"parent": parent, "form": form, "result": result})


@login_required
@require_GET
def org_bulk_template(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    parent = get_org_for(actor, pk)
    require(actor.is_admin_of(parent))
    response = HttpResponse(
        services.org_sheet_template(parent),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = "attachment; filename=\"org-import-template.xlsx\""
    return response


@login_required
@require_http_methods(["GET", "POST"])
def org_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    at_once = may_edit_info_at_once(actor, org)
    require(at_once or actor.is_admin_of(org))
    initial = {name: getattr(org, name) for name in services.INFO_FIELDS}
    form = OrgEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.org_update_info(actor=actor, org=org, changes=form.cleaned_data)
        except services.OrgError as error:
            error.add_to_form(form)
        else:
            if not at_once:
                messages.success(request, _("Your change was sent to the superior organization's admin for "
                                            "approval; it takes effect once approved."))
            elif changed:
                messages.success(request, _("The organization's info was updated."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("org_detail", pk=org.pk)
    return render(request, "orgs/edit.html", {
        "org": org, "form": form, "at_once": at_once, "top_level": at_once and org.parent_id is None,
    })


@login_required
@require_http_methods(["GET", "POST"])
def org_move(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(services.may_move(actor, org))
    form = OrgMoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["parent_code"].strip()
        # Only orgs in the actor's subtree can be named: others look exactly like unknown codes.
        new_parent = actor.visible_orgs().select_related("type").filter(code=code).first()
        if new_parent is None:
            form.add_error("parent_code", _("No organization in your scope has the code %(code)s.") % {"code": code})
        else:
            try:
                services.org_move(actor=actor, org=org, new_parent=new_parent)
            except services.OrgError as error:
                error.add_to_form(form)
            else:
                messages.success(request, _("%(org)s now belongs to %(parent)s.")
                                 % {"org": org.short_name, "parent": new_parent.short_name})
                return redirect("org_detail", pk=org.pk)
    return render(request, "orgs/move.html", {"org": org, "form": form})


@login_required
@require_POST
def org_delete(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.actor
    org = get_org_for(actor, pk)
    require(actor.is_direct_superior_admin_of(org))
    parent_pk = org.parent_id
    try:
        services.org_delete(actor=actor, org=org)
    except services.OrgError as error:
        messages.error(request, error.message)
        return redirect("org_detail", pk=org.pk)
    messages.success(request, _("%(org)s was deleted.") % {"org": org.short_name})
    return redirect("org_detail", pk=parent_pk)

