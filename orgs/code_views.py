"""Pages for admin registration codes: issuing them (org_codes), registering with one (register_admin and
its org search), and completing the org info afterwards (org_complete). Thin: the rules are in orgs.codes,
orgs.admin_registration, orgs.secretary and orgs.public_search.

Responses that carry a plaintext code are never cached (never_cache): the code is shown once.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods

from members.middleware import ACTING_ORG_SESSION_KEY

from . import admin_registration, codes, public_search, secretary
from .code_forms import OrgCompleteForm, RegisterAdminForm
from .models import Org, RegistrationCode
from .permissions import get_org_for, require

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chosen_children(org: Org, request: HttpRequest) -> list[Org] | None:
    """The direct subordinates picked in the form; with `all`, those without an admin (a code replaces the
    current admin, so nobody's role is put up for takeover unless chosen by name). None if any id is not one."""
    children = Org.objects.filter(parent=org).select_related("type", "parent")
    if request.POST.get("all"):
        return list(children.filter(admin_assignment__isnull=True))
    raw = request.POST.getlist("orgs")
    try:
        ids = {int(value) for value in raw}
    except ValueError:
        return None
    chosen = list(children.filter(pk__in=ids))
    return chosen if len(chosen) == len(ids) else None


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def org_codes(request: HttpRequest, pk: int) -> HttpResponse:
    """The acting admin's direct subordinates with their code state; generate one, or several as .xlsx."""
    actor = request.actor
    org = get_org_for(actor, pk)
    require(actor.is_admin_of(org))
    issued = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "generate":
            child = get_org_for(actor, request.POST.get("org"))
            code = codes.code_issue(actor=actor, org=child)
            live = RegistrationCode.objects.get(org=child, used_at=None, revoked_at=None)
            issued = {"org": child, "code": code, "expires_at": live.expires_at}
        elif action == "export":
            chosen = _chosen_children(org, request)
            if chosen is None:
                messages.error(request, _("Some of the chosen organizations are not direct subordinates of %(org)s;"
                                          " nothing was generated.") % {"org": org.short_name})
            elif not chosen and request.POST.get("all"):
                messages.error(request, _("Every direct subordinate already has an admin, so nothing was generated."
                                          " To replace an admin, tick that organization and generate for it."))
            else:
                try:
                    rows = codes.codes_issue_bulk(actor=actor, orgs=chosen)
                except codes.CodeError as exc:
                    messages.error(request, exc.message)
                else:
                    response = HttpResponse(codes.codes_workbook(rows), content_type=XLSX)
                    name = _("%(org)s-registration-codes-%(date)s.xlsx") % {
                        "org": org.short_name, "date": f"{timezone.localdate():%Y%m%d}"}
                    response["Content-Disposition"] = content_disposition_header(True, name)
                    return response
        else:
            messages.error(request, _("Unknown action."))
    statuses = codes.subordinate_code_status(org)
    return render(request, "codes/org_codes.html", {
        "org": org, "statuses": statuses, "issued": issued,
        "code_days": codes.code_lifetime().days,
    })


@sensitive_post_parameters("code", "password", "password2")
@never_cache
@require_http_methods(["GET", "POST"])
def register_admin(request: HttpRequest) -> HttpResponse:
    """Anyone with a code registers as their org's admin, is logged in acting for it, and completes its info."""
    if request.method == "POST":
        form = RegisterAdminForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            org = data["org"]
            try:
                person = admin_registration.admin_register(
                    org=org, code=data["code"], name=data["name"], id_number=data["id_number"],
                    phone=data["phone"], password=data["password"], ip=request.actor.ip,
                )
            except codes.CodeError as exc:
                exc.add_to_form(form)
            else:
                login(request, person, backend="members.backends.IdNumberBackend")
                request.session[ACTING_ORG_SESSION_KEY] = org.pk
                messages.success(request, _("You are now the admin of %(org)s. Please complete its information.")
                                 % {"org": org.short_name})
                return redirect("org_complete", pk=org.pk)
    else:
        initial_code = (request.GET.get("org") or "").strip()
        form = RegisterAdminForm(initial={"org": initial_code} if initial_code else None)
    chosen = None
    value = form.data.get("org") if form.is_bound else form.initial.get("org")
    if value:
        chosen = Org.objects.select_related("type", "parent").filter(code=value).first()
    # Without JavaScript the search box submits here (GET ?q=) and the matches render with the page.
    query = (request.GET.get("q") or "").strip() if request.method == "GET" else ""
    return render(request, "codes/register_admin.html", {
        "form": form, "chosen": chosen, "chosen_list": [chosen] if chosen else [],
        "search_value": query or (chosen.short_name if chosen else ""),
        "results": public_search.orgs_for_registration(query) if "q" in request.GET else None,
    })


@require_GET
def register_admin_orgs(request: HttpRequest) -> HttpResponse:
    """The htmx search behind the registration page: orgs by name or code (public data only)."""
    query = request.GET.get("q", "")
    return render(request, "codes/_org_results.html", {
        "orgs": public_search.orgs_for_registration(query), "query": query.strip(),
        "selected": request.GET.get("org", ""),
    })


@login_required
@require_http_methods(["GET", "POST"])
def org_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """The org's own admin sets its contacts and secretary (verified; a deputy may stand in for now)."""
    actor = request.actor
    org = get_org_for(actor, pk)
    require(actor.is_admin_of(org))
    show_deputy = org.secretary_is_deputy
    if request.method == "POST":
        form = OrgCompleteForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = secretary.org_complete(
                    actor=actor, org=org, contact_phone=data["contact_phone"], contact_email=data["contact_email"],
                    secretary_name=data["secretary_name"], secretary_id_number=data["secretary_id_number"],
                    secretary_phone=data["secretary_phone"], as_deputy=data["as_deputy"],
                )
            except codes.CodeError as exc:
                exc.add_to_form(form)
                show_deputy = True
            else:
                if result.verified:
                    messages.success(request, _("The information of %(org)s is saved.") % {"org": org.short_name})
                else:
                    messages.warning(request, _("Saved with a deputy standing in as secretary. Record the verified"
                                                " secretary as soon as possible."))
                return redirect("org_detail", pk=org.pk)
        else:
            show_deputy = show_deputy or bool(request.POST.get("as_deputy"))
    else:
        initial = {"contact_phone": org.contact_phone, "contact_email": org.contact_email}
        if org.secretary is not None:
            initial.update(secretary_name=org.secretary.name, secretary_phone=org.secretary.phone)
        form = OrgCompleteForm(initial=initial)
    return render(request, "codes/org_complete.html", {"org": org, "form": form, "show_deputy": show_deputy})
